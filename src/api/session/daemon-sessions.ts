// What a build on the daemon uses of its client's session: the client's local directories
// mirrored on this host (only changes cross the wire on later builds), its secrets and ssh
// agents, and exporters whose output goes back to the client.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { finished, type Writable } from "node:stream";
import { sha256 } from "../../core/digest.ts";
import { parseGoBool } from "../../core/go-bool.ts";
import { BuildkitError } from "../../core/errors.ts";
import { copiedParts, NO_EXPORT_PROGRESS, type BuildResult, type ExporterInstance } from "../../core/exporters/exporter.ts";
import { parseSourceDateEpoch, SOURCE_DATE_EPOCH_ATTR } from "../../core/exporters/spec.ts";
import type { BuildSession, LocalDirRequest } from "../../core/session/session.ts";
import { mirrorStamp } from "../../core/sources/local/mirror-gc.ts";
import { statePath } from "../../core/worker/storage.ts";
import type { AttachedSession } from "../control/client-sessions.ts";
import { sessionContentStore } from "./content/store.ts";
import { copyToCaller } from "./filesync/sync.ts";
import { attestationFiles } from "../../core/exporters/local/attestation-files.ts";
import { syncDir } from "./filesync/sync.ts";
import { copyFileWriter } from "./filesync/tar-target.ts";
import { sessionCaller } from "./grpc-binding.ts";
import { MirrorLocks } from "./mirror-locks.ts";
import { SessionManager } from "./manager.ts";
import { getSecret } from "./secrets.ts";
import type { SessionCaller } from "./session.ts";
import { mountSshSocket, type SshSocket } from "./ssh.ts";
import type { DaemonSession } from "./tunnel.ts";

/** The daemon's sessions, with client directories mirrored under ROOT/local-mirrors. */
export function createDaemonSessions(opts: { root: string }): SessionManager {
  const mirrors = statePath(opts.root, "localMirrors");
  const locks = new MirrorLocks();
  return new SessionManager((session, signal) => attachSession(session, { mirrors, locks, signal }));
}

interface AttachDeps {
  readonly mirrors: string;
  readonly locks: MirrorLocks;
  readonly signal: AbortSignal;
}

function attachSession(session: DaemonSession, deps: AttachDeps): AttachedSession {
  const caller = sessionCaller(session);
  const synced = new Map<string, Promise<string>>();
  const releases: (() => void)[] = [];
  const agents = new Map<string, Promise<SshSocket>>();

  const buildSession: BuildSession = {
    localDir(name, request) {
      const key = mirrorKey(session.sharedKey, name, request);
      let dir = synced.get(key);
      if (dir === undefined) {
        dir = syncMirror(caller, name, request, key, deps, releases);
        synced.set(key, dir);
      }
      return dir;
    },
    async secret(id, signal) {
      try {
        return await getSecret(caller, id, signal);
      } catch (err) {
        if (err instanceof BuildkitError && err.code === "NotFound") return undefined;
        throw err;
      }
    },
    async sshSocket(id) {
      let agent = agents.get(id);
      if (agent === undefined) {
        agent = mountSshSocket(caller, { id });
        agents.set(id, agent);
      }
      return (await agent).path;
    },
    contentStore: (id) => sessionContentStore(caller, id),
  };

  return {
    buildSession,
    clientExporter: (type, attrs) => clientExporter(caller, type, attrs),
    contentStore: (id) => sessionContentStore(caller, id),
    async release() {
      for (const release of releases) release();
      await Promise.allSettled([...agents.values()].map(async (a) => (await a).close()));
    },
  };
}

/**
 * Mirrors are per client directory and filter set: the session's shared key (BuildKit's
 * client sends a stable one per machine), the local name or its shared-key hint, the patterns.
 */
function mirrorKey(sharedKey: string, name: string, r: LocalDirRequest): string {
  return sha256(JSON.stringify([sharedKey, r.sharedKeyHint || name, r.include ?? [], r.exclude ?? [], r.followPaths ?? []]));
}

/** Syncs into a free copy of the mirror, held until the build ends: the build reads it meanwhile. */
async function syncMirror(caller: SessionCaller, name: string, r: LocalDirRequest, key: string, deps: AttachDeps, releases: (() => void)[]): Promise<string> {
  const { slot, release } = await deps.locks.acquire(key, r.signal);
  releases.push(release);
  const dir = join(deps.mirrors, `${key.slice("sha256:".length)}-${slot}`);
  await mkdir(dir, { recursive: true });
  // A stamp beside the copy says when a build last took it (prune removes copies unused for a
  // long time); the copy's own times are the client's.
  await writeFile(mirrorStamp(dir), "");
  await syncDir(caller, dir, {
    name,
    ...(r.include ? { includePatterns: r.include } : {}),
    ...(r.exclude ? { excludePatterns: r.exclude } : {}),
    ...(r.followPaths ? { followPaths: r.followPaths } : {}),
    ...(r.onProgress ? { onProgress: r.onProgress } : {}),
    signal: r.signal,
  });
  return dir;
}

/** Exporters whose output the client receives; undefined for those the daemon runs itself. */
async function clientExporter(caller: SessionCaller, type: string, attrs: Readonly<Record<string, string>>): Promise<ExporterInstance | undefined> {
  switch (type) {
    case "local": {
      // The client writes the files; only the times they get are the daemon's to set.
      const epoch = parseSourceDateEpoch("local", attrs[SOURCE_DATE_EPOCH_ATTR]);
      const modTime = epoch === undefined ? undefined : epoch * 1e9;
      const prefix = attrs["attestation-prefix"] ?? "";
      return {
        description: "exporting to client directory",
        async export(result: BuildResult, signal: AbortSignal, progress = NO_EXPORT_PROGRESS) {
          // Several platforms: each under a directory named after it ("linux_arm64"), as BuildKit's local exporter sends them.
          for (const part of copiedParts(result)) {
            await progress.step(part.step, () =>
              part.result.withMounted(async (dir) => {
                // Attestation statements go beside the files (BuildKit's CreateFS), dated now unless the epoch is.
                const extraFiles = (await attestationFiles(part.result, dir, prefix)).map((f) => ({ ...f, modTime: Date.now() * 1e6 }));
                await copyToCaller(caller, dir, { signal, modTime, subdir: part.subdir, extraFiles });
              }),
            );
          }
          return {};
        },
      };
    }
    case "tar": {
      const { createTarExporter } = await import("../../core/exporters/tar/index.ts");
      const epoch = attrs[SOURCE_DATE_EPOCH_ATTR];
      return endedAfter(caller, (stdout) => createTarExporter({ stdout }).resolve({ dest: "-", ...(epoch === undefined ? {} : { [SOURCE_DATE_EPOCH_ATTR]: epoch }) }));
    }
    case "oci":
    case "docker": {
      const { createOciExporter, createDockerExporter } = await import("../../core/exporters/oci/index.ts");
      const make = type === "oci" ? createOciExporter : createDockerExporter;
      // tar=false: the blobs go into the client's layout, served as its "export" content store.
      if (attrs.tar !== undefined && parseGoBool(attrs.tar) === false) return make({ store: () => sessionContentStore(caller, "export") }).resolve({ ...attrs, dest: "-" });
      return endedAfter(caller, (stdout) => make({ stdout }).resolve({ ...attrs, dest: "-" }));
    }
    default:
      return undefined;
  }
}

/**
 * An exporter writing to the client's output, opened only when it starts writing. The OCI and
 * docker exporters treat that output as stdout and never end it: it is ended here once the
 * export returns, which flushes the last bytes and waits until the client has closed its file.
 */
function endedAfter(caller: SessionCaller, make: (stdout: () => Writable) => ExporterInstance): ExporterInstance {
  let out: Writable | undefined;
  const inner = make(() => (out ??= copyFileWriter(caller)));
  return {
    description: inner.description,
    async export(result, signal, progress) {
      const response = await inner.export(result, signal, progress);
      if (out) await endWritable(out);
      return response;
    },
  };
}

function endWritable(out: Writable): Promise<void> {
  if (out.writableFinished) return Promise.resolve();
  return new Promise((resolve, reject) => {
    finished(out, (err) => (err ? reject(err) : resolve()));
    if (!out.writableEnded) out.end();
  });
}

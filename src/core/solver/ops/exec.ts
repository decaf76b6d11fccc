import { chownSync, chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BuildkitError } from "../../errors.ts";
import type { pb } from "../../pb/index.ts";
import type { CacheMountLease, CacheMounts, CacheSharing } from "../../cache/cache-mounts.ts";
import type { SnapshotRefs } from "../../cache/refs.ts";
import type { ExecMount, ProcessMeta } from "../../worker/executor.ts";
import type { Mount } from "../../worker/mount.ts";
import type { Worker } from "../../worker/worker.ts";
import type { BuildSession } from "../../session/session.ts";
import type { OpAdapter, OpContext, ResultRef } from "../op.ts";
import { commitMutable, discard, newId, prepareMutable, type Mutable } from "../../worker/snapshots.ts";

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const SHARING: Record<number, CacheSharing> = { 0: "shared", 1: "private", 2: "locked" };
const MOUNT_TYPE = { bind: 0, secret: 1, ssh: 2, cache: 3, tmpfs: 4 } as const;

export interface ExecDeps {
  readonly worker: Worker;
  readonly refs: SnapshotRefs;
  readonly cacheMounts: CacheMounts;
  readonly session: BuildSession;
}

/** Everything an exec step sets up, torn down whatever happens. */
interface Setup {
  root?: readonly Mount[];
  readonly mounts: ExecMount[];
  readonly outputs: Mutable[];
  readonly scratch: string[];
  readonly leases: CacheMountLease[];
  readonly secretFiles: { dest: string; value: Uint8Array; opt: pb.SecretOpt.$Properties }[];
  readonly env: string[];
}

/** Runs an ExecOp: its mounts become snapshots, its writable outputs new results. */
export function execAdapter(op: pb.ExecOp.$Properties, deps: ExecDeps): OpAdapter {
  return {
    async exec(inputs, ctx) {
      const setup: Setup = { mounts: [], outputs: [], scratch: [], leases: [], secretFiles: [], env: [] };
      let ok = false;
      try {
        await prepareMounts(op, inputs, setup, deps, ctx);
        await withSecrets(deps.worker, setup, () => run(op, setup, deps.worker, ctx));
        const results: ResultRef[] = [];
        for (const m of setup.outputs) results.push(deps.refs.ref(await commitMutable(deps.worker, m)));
        ok = true;
        return results;
      } finally {
        if (!ok) await discard(deps.worker, setup.outputs.map((m) => m.key));
        await discard(deps.worker, setup.scratch);
        for (const lease of setup.leases) lease.release();
      }
    },
  };
}

async function prepareMounts(op: pb.ExecOp.$Properties, inputs: readonly ResultRef[], setup: Setup, deps: ExecDeps, ctx: OpContext): Promise<void> {
  const { worker } = deps;
  for (const m of op.mounts ?? []) {
    const dest = m.dest ?? "";
    const input = m.input ?? 0;
    switch (m.mountType ?? MOUNT_TYPE.bind) {
      case MOUNT_TYPE.bind: {
        const parent = input >= 0 ? inputs[input]?.id : undefined;
        let mounts: readonly Mount[];
        if ((m.output ?? 0) >= 0 && !m.readonly) {
          const mut = await prepareMutable(worker, parent);
          setup.outputs[m.output ?? 0] = mut;
          mounts = mut.mounts;
        } else {
          const key = newId(m.readonly ? "view" : "scratch");
          mounts = m.readonly ? await worker.snapshotter.view(key, parent) : await worker.snapshotter.prepare(key, parent);
          setup.scratch.push(key);
        }
        if (dest === "/") setup.root = mounts;
        else setup.mounts.push({ dest, mounts, selector: m.selector || undefined, readonly: m.readonly ?? false });
        break;
      }
      case MOUNT_TYPE.cache: {
        const lease = await deps.cacheMounts.acquire(m.cacheOpt?.ID || dest, SHARING[m.cacheOpt?.sharing ?? 0] ?? "shared", ctx.signal);
        setup.leases.push(lease);
        setup.mounts.push({ dest, mounts: lease.mounts, selector: m.selector || undefined });
        break;
      }
      case MOUNT_TYPE.tmpfs: {
        const size = m.TmpfsOpt?.size ?? 0;
        setup.mounts.push({ dest, mounts: [{ type: "tmpfs", source: "tmpfs", options: size > 0 ? [`size=${size}`] : [] }] });
        break;
      }
      case MOUNT_TYPE.secret:
        await addSecretMount(m, setup, deps.session, ctx.signal);
        break;
      case MOUNT_TYPE.ssh:
        await addSSHMount(m, setup, deps.session, ctx.signal);
        break;
      default:
        throw new BuildkitError("Unimplemented", `mount ${dest}: unknown mount type ${m.mountType}`);
    }
  }
  for (const s of op.secretenv ?? []) {
    const value = await readSecret(deps.session, s.ID ?? "", s.optional ?? false, ctx.signal);
    if (value !== undefined) setup.env.push(`${s.name}=${new TextDecoder().decode(value)}`);
  }
  if (!setup.root) throw new BuildkitError("InvalidArgument", "exec: no root mount");
}

async function readSecret(session: BuildSession, id: string, optional: boolean, signal: AbortSignal): Promise<Uint8Array | undefined> {
  const value = await session.secret(id, signal);
  if (value !== undefined || optional) return value;
  throw new BuildkitError("NotFound", `secret ${id} not found: pass it with --secret id=${id},src=PATH`);
}

async function addSecretMount(m: pb.Mount.$Properties, setup: Setup, session: BuildSession, signal: AbortSignal): Promise<void> {
  const opt = m.secretOpt ?? {};
  const value = await readSecret(session, opt.ID ?? "", opt.optional ?? false, signal);
  if (value === undefined) return;
  // The file itself is written into a private tmpfs just before the run (see withSecrets).
  setup.secretFiles.push({ dest: m.dest ?? "", value, opt });
}

async function addSSHMount(m: pb.Mount.$Properties, setup: Setup, session: BuildSession, signal: AbortSignal): Promise<void> {
  const id = m.SSHOpt?.ID || "default";
  const socket = await session.sshSocket(id, signal);
  if (!socket) {
    if (m.SSHOpt?.optional) return;
    throw new BuildkitError("NotFound", `ssh agent ${id} not found: pass it with --ssh ${id}=SOCKET`);
  }
  setup.mounts.push({ dest: m.dest ?? "", mounts: [{ type: "bind", source: socket, options: ["bind", "rw"] }] });
}

/** Secrets live in a tmpfs that exists only while the process runs: never on disk, never in a result. */
async function withSecrets<T>(worker: Worker, setup: Setup, fn: () => Promise<T>): Promise<T> {
  if (setup.secretFiles.length === 0) return fn();
  const tmpfs: Mount = { type: "tmpfs", source: "tmpfs", options: ["size=4m", "mode=0700"] };
  return worker.withMounted([tmpfs], async (dir) => {
    setup.secretFiles.forEach((s, i) => {
      const file = join(dir, `secret-${i}`);
      writeFileSync(file, s.value);
      chownSync(file, s.opt.uid ?? 0, s.opt.gid ?? 0);
      chmodSync(file, s.opt.mode ?? 0o400);
      setup.mounts.push({ dest: s.dest, mounts: [{ type: "bind", source: file, options: ["bind", "ro"] }], readonly: true });
    });
    return fn();
  });
}

async function run(op: pb.ExecOp.$Properties, setup: Setup, worker: Worker, ctx: OpContext): Promise<void> {
  const meta = processMeta(op, setup.env);
  const { exitCode } = await worker.executor.run(
    {
      root: setup.root ?? [],
      mounts: setup.mounts,
      meta,
      io: { stdout: (d) => ctx.progress.log(1, d), stderr: (d) => ctx.progress.log(2, d) },
    },
    ctx.signal,
  );
  const valid = op.meta?.validExitCodes?.length ? op.meta.validExitCodes : [0];
  if (!valid.includes(exitCode)) {
    const err = new BuildkitError("Unknown", `process "${meta.args.join(" ")}" did not complete successfully: exit code: ${exitCode}`);
    throw Object.assign(err, { exitCode });
  }
}

/**
 * The proxy settings as environment variables, upper and lower case, as BuildKit sets them.
 * (They are left out of the cache key: see solver/cache-key.ts.)
 */
function proxyEnv(p: pb.ProxyEnv.$Properties | null | undefined): string[] {
  if (!p) return [];
  const pairs: [string, string | null | undefined][] = [
    ["HTTP_PROXY", p.http_proxy],
    ["HTTPS_PROXY", p.https_proxy],
    ["FTP_PROXY", p.ftp_proxy],
    ["NO_PROXY", p.no_proxy],
    ["ALL_PROXY", p.all_proxy],
  ];
  return pairs.flatMap(([name, v]) => (v ? [`${name}=${v}`, `${name.toLowerCase()}=${v}`] : []));
}

function processMeta(op: pb.ExecOp.$Properties, secretEnv: readonly string[]): ProcessMeta {
  const m = op.meta ?? {};
  const env = [...(m.env ?? [])];
  if (!env.some((e) => e.startsWith("PATH="))) env.unshift(`PATH=${DEFAULT_PATH}`);
  return {
    args: m.args ?? [],
    env: [...env, ...proxyEnv(m.proxy_env), ...secretEnv],
    cwd: m.cwd || "/",
    user: m.user ?? "",
    hostname: m.hostname || undefined,
    network: op.network === 1 ? "host" : op.network === 2 ? "none" : "sandbox",
    security: op.security === 1 ? "insecure" : "sandbox",
    extraHosts: (m.extraHosts ?? []).map((h) => ({ host: h.Host ?? "", ip: h.IP ?? "" })),
    ulimits: (m.ulimit ?? []).map((u) => ({ name: u.Name ?? "", soft: u.Soft ?? 0, hard: u.Hard ?? 0 })),
  };
}

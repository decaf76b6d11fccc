/**
 * gateway.v0: a frontend shipped as an image (`--frontend gateway.v0 --opt source=IMAGE`, or a
 * Dockerfile's `# syntax=IMAGE`), run as BuildKit's gateway frontend runs it: the image is solved
 * like any other source, its Entrypoint (default /run) runs in a container on a writable copy of
 * it, with BUILDKIT_FRONTEND_OPT_<n>=KEY=VALUE per option, BUILDKIT_SESSION_ID, BUILDKIT_WORKERS
 * and BUILDKIT_EXPORTEDPRODUCT in its environment and the definition that made it at
 * /run/config/buildkit/metadata/frontend.bin, and its stdin/stdout carry one HTTP/2 connection
 * on which it calls our LLBBridge. Its solves live in `gw`; the build is what it Returns.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex, PassThrough } from "node:stream";
import { BuildkitError } from "../../core/errors.ts";
import { image } from "../../core/llb/index.ts";
import { formatImageRef, parseImageRef } from "../../core/reference/docker-ref.ts";
import { resolveImageForConfig } from "../../core/sources/image/resolve-mode.ts";
import { withTask } from "../../core/progress/task.ts";
import type { ExecMount, ProcessMeta } from "../../core/worker/executor.ts";
import { discard, prepareMutable } from "../../core/worker/snapshots.ts";
import { createServer } from "../grpc/server.ts";
import { HealthService, LLBBridgeService } from "../grpc/services.ts";
import { bridgeHandlers } from "./bridge.ts";
import type { FrontendDeps } from "./frontends.ts";
import type { GatewayBuild, ReturnedResult } from "./gateway-build.ts";

const METADATA_DIR = "/run/config/buildkit/metadata";
/** apicaps.ExportedProduct as buildkitd sets it. */
const PRODUCT = "buildkit";
const CAPS_LABEL = "moby.buildkit.frontend.caps";
const NETWORK_NONE_LABEL = "moby.buildkit.frontend.network.none";
const INPUTS_CAP = "moby.buildkit.frontend.inputs";
/** How much of the frontend's stderr an error quotes. */
const STDERR_TAIL = 4096;
const SERVING = 1;

interface ImageConfig {
  readonly Entrypoint?: readonly string[] | null;
  readonly Env?: readonly string[] | null;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>> | null;
}

/** Runs the frontend image opts.source; resolves with what it returned. */
export async function runFrontendImage(opts: Readonly<Record<string, string>>, gw: GatewayBuild, deps: FrontendDeps): Promise<ReturnedResult> {
  const source = opts.source;
  if (!source) throw new BuildkitError("InvalidArgument", "no source specified for gateway");
  const { engine } = deps;
  const { signal, progress } = gw.context;
  let ref: string;
  try {
    ref = formatImageRef(parseImageRef(source));
  } catch (err) {
    throw new BuildkitError("InvalidArgument", `gateway frontend ${source}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const platform = deps.worker.platform;
  const resolved = (await resolveImageForConfig(ref, platform, "default", { registry: engine.registry, content: engine.worker.content, root: engine.worker.root }, signal)).image;
  const digest = resolved.indexDigest ?? resolved.digest;
  gw.recordResolved([{ type: "docker-image", ref, digest }]);
  const config = (JSON.parse(new TextDecoder().decode(resolved.configBytes)) as { config?: ImageConfig }).config ?? {};
  checkCaps(config, opts, Object.keys(gw.inputs).length > 0);

  // The image, pinned to what was resolved, as a source of this build (du shows it as "frontend").
  const definition = image(`${ref.replace(/@sha256:[0-9a-f]+$/, "")}@${digest}`, { recordType: "frontend" }).marshal({ platform });
  const rootfs = gw.result(await gw.solve(definition));
  if (!rootfs?.ref) throw new BuildkitError("InvalidArgument", `gateway source ${source} didn't return default result`);

  const meta: ProcessMeta = {
    args: config.Entrypoint?.length ? [...config.Entrypoint] : ["/run"],
    env: [...(config.Env ?? []), ...frontendEnv(opts, deps)],
    cwd: config.WorkingDir || "/",
    user: "",
    network: /^(1|t|true)$/i.test(config.Labels?.[NETWORK_NONE_LABEL] ?? "") ? "none" : "sandbox",
    security: "sandbox",
  };
  const metadataDir = await mkdtemp(join(tmpdir(), "buildkit-metadata-"));
  const root = await prepareMutable(engine.worker, rootfs.ref.id);
  try {
    await writeFile(join(metadataDir, "frontend.bin"), definition, { mode: 0o400 });
    const mounts: ExecMount[] = [{ dest: METADATA_DIR, mounts: [{ type: "bind", source: metadataDir, options: ["bind", "ro"] }], readonly: true }];
    const run = () => serveWhileRunning(gw, deps, (io) => engine.worker.executor.run({ root: root.mounts, mounts, meta, io }, signal));
    const { exitCode, stderr } = await withTask(progress, `[frontend] ${source}`, run);
    return await outcome(gw, source, exitCode, stderr);
  } finally {
    await discard(engine.worker, [root.key]);
    await rm(metadataDir, { recursive: true, force: true });
  }
}

/** BuildKit refuses a frontend that lacks a capability the request (or its inputs) needs. */
function checkCaps(config: ImageConfig, opts: Readonly<Record<string, string>>, hasInputs: boolean): void {
  const list = (v: string | undefined) => (v ?? "").split(",").map((c) => c.trim()).filter((c) => c !== "");
  const has = new Set(list(config.Labels?.[CAPS_LABEL]));
  const wanted = new Set(list(opts["frontend.caps"]));
  if (hasInputs) wanted.add(INPUTS_CAP);
  for (const cap of wanted) if (!has.has(cap)) throw new BuildkitError("Unimplemented", `unsupported frontend capability ${cap}`);
}

/** What grpcclient.RunFromEnvironment reads. */
function frontendEnv(opts: Readonly<Record<string, string>>, deps: FrontendDeps): string[] {
  const record = deps.worker.record();
  const workers = [{
    ID: record.ID,
    Labels: record.Labels,
    Platforms: (record.platforms ?? []).map((p) => ({ architecture: p.Architecture, os: p.OS, ...(p.Variant ? { variant: p.Variant } : {}) })),
  }];
  return [
    ...Object.entries(opts).map(([k, v], i) => `BUILDKIT_FRONTEND_OPT_${i}=${k}=${v}`),
    `BUILDKIT_SESSION_ID=${randomUUID().replaceAll("-", "")}`,
    `BUILDKIT_WORKERS=${JSON.stringify(workers)}`,
    `BUILDKIT_EXPORTEDPRODUCT=${PRODUCT}`,
  ];
}

type RunIO = Parameters<FrontendDeps["engine"]["worker"]["executor"]["run"]>[0]["io"];

/**
 * Serves LLBBridge (bound to gw) on the process's stdin/stdout while run runs it; the
 * connection ends when the process does.
 */
async function serveWhileRunning(gw: GatewayBuild, deps: FrontendDeps, run: (io: RunIO) => Promise<{ exitCode: number }>): Promise<{ exitCode: number; stderr: string }> {
  const toProcess = new PassThrough();
  const conn = new Duplex({
    read() {},
    write(chunk: Uint8Array, _encoding, done) {
      toProcess.write(chunk, done);
    },
    final(done) {
      toProcess.end();
      done();
    },
  });
  const server = createServer()
    .addService(LLBBridgeService, bridgeHandlers(deps, async () => gw))
    .addService(HealthService, { Check: async () => ({ status: SERVING }) });
  void server.serveConnection(conn);
  let stderr = "";
  try {
    const { exitCode } = await run({
      stdin: toProcess,
      stdout: (chunk) => conn.push(chunk),
      stderr: (chunk) => {
        stderr = (stderr + new TextDecoder().decode(chunk)).slice(-STDERR_TAIL);
      },
    });
    return { exitCode, stderr };
  } finally {
    conn.push(null);
    toProcess.end();
    await server.close();
  }
}

/**
 * The build's result, with BuildKit's precedence: an error the frontend returned, then the
 * process's failure, then the result it returned.
 */
async function outcome(gw: GatewayBuild, source: string, exitCode: number, stderr: string): Promise<ReturnedResult> {
  if (gw.ended) {
    const returned = await gw.returned;
    if (exitCode === 0) return returned;
  }
  const tail = stderr.trim().split("\n").slice(-3).join("; ");
  if (exitCode !== 0) throw new BuildkitError("FailedPrecondition", `frontend ${source} exited with code ${exitCode}${tail ? `: ${tail}` : ""}`);
  throw new BuildkitError("FailedPrecondition", `frontend ${source} exited without returning a result${tail ? `: ${tail}` : ""}`);
}

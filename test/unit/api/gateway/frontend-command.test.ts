// `buildkit frontend` as BuildKit runs a gateway frontend: a child process whose stdin and
// stdout carry the LLBBridge connection, answered here by a fake bridge that serves a client's
// files the way BuildKit does (a local source solved, then ReadFile; a missing file is an
// UNKNOWN "no such file or directory").
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { createServer } from "../../../../src/api/grpc/server.ts";
import { GrpcError, Status } from "../../../../src/api/grpc/status.ts";
import { LLBBridgeService } from "../../../../src/api/grpc/services.ts";
import { stdioDuplex } from "../../../../src/api/gateway/client/stdio-duplex.ts";
import { loadDefinition } from "../../../../src/core/llb/definition.ts";
import { BUN, CLI } from "../../../paths.ts";

interface Returned {
  readonly result?: { ref?: { id?: string; def?: Uint8Array }; refDeprecated?: string; metadata?: Record<string, Uint8Array> };
  readonly error?: { code?: number; message?: string };
}

interface Run {
  readonly code: number | null;
  readonly stderr: string;
  readonly returned: Returned | undefined;
  /** Each solved definition's local sources: name → attrs. */
  readonly locals: Record<string, string>[];
}

/** Runs `buildkit frontend` against a fake bridge holding files (local name → path → text). */
async function runFrontend(files: Record<string, Record<string, string>>, opts: Record<string, string>, caps: string[] = ["proto.refarray"]): Promise<Run> {
  const solved = new Map<string, string>(); // ref id → local name
  const locals: Record<string, string>[] = [];
  let returned: Returned | undefined;
  let n = 0;
  const server = createServer().addService(LLBBridgeService, {
    async Ping() {
      return { FrontendAPICaps: caps.map((ID) => ({ ID, Enabled: true })) };
    },
    async Solve(req) {
      const def = loadDefinition(req.Definition ?? new Uint8Array());
      const id = `ref${++n}`;
      for (const { op } of def.ops.values()) {
        const src = op.source;
        if (src?.identifier?.startsWith("local://")) {
          locals.push({ name: src.identifier.slice("local://".length), ...src.attrs });
          solved.set(id, src.identifier.slice("local://".length));
        }
      }
      return { result: { ref: { id, def: req.Definition } } };
    },
    async ReadFile(req) {
      const text = files[solved.get(req.Ref ?? "") ?? ""]?.[req.FilePath ?? ""];
      if (text === undefined) throw new GrpcError(Status.UNKNOWN, `open /tmp/buildkit-mount/${req.FilePath}: no such file or directory`);
      return { Data: new TextEncoder().encode(text) };
    },
    async Return(req) {
      returned = req as Returned;
      return {};
    },
  });
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", BUILDKIT_SESSION_ID: "sess123", BUILDKIT_EXPORTEDPRODUCT: "buildkitd", BUILDKIT_WORKERS: "[]" };
  Object.entries(opts).forEach(([k, v], i) => (env[`BUILDKIT_FRONTEND_OPT_${i}`] = `${k}=${v}`));
  const child = spawn(BUN, [CLI, "frontend"], { env, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  void server.serveConnection(stdioDuplex(child.stdout, child.stdin));
  const code = await exited;
  clearTimeout(timer);
  await server.close();
  return { code, stderr, returned, locals };
}

describe("buildkit frontend (a gateway frontend over stdin/stdout)", () => {
  test("reads the Dockerfile and .dockerignore through local sources, solves, and returns the result", async () => {
    const r = await runFrontend({ dockerfile: { Dockerfile: "FROM scratch\nARG X\nCOPY a.txt /a-$X\n" }, context: { ".dockerignore": "secret\n" } }, { "build-arg:X": "y" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.returned?.error).toBeFalsy();
    const ref = r.returned?.result?.ref;
    expect(ref?.id).toMatch(/^ref\d+$/);
    const config = JSON.parse(new TextDecoder().decode(r.returned?.result?.metadata?.["containerimage.config"])) as { rootfs: unknown };
    expect(config.rootfs).toBeDefined();
    // The reads, as BuildKit's builder makes them, in the client's session: the Dockerfile through
    // build.go's src (the source its warnings and source map name), the context's .dockerignore alone.
    expect(r.locals).toContainEqual(
      expect.objectContaining({ name: "dockerfile", "local.followpaths": '["Dockerfile","Dockerfile.dockerignore","dockerfile"]', "local.sharedkeyhint": "dockerfile", "local.session": "sess123" }),
    );
    expect(r.locals).toContainEqual(expect.objectContaining({ name: "context", "local.followpaths": '[".dockerignore"]', "local.sharedkeyhint": "context-.dockerignore" }));
    // The build context of the returned definition: the session named, the .dockerignore applied, the COPY's path followed.
    const context = [...loadDefinition(ref!.def!).ops.values()].map((o) => o.op.source).find((s) => s?.identifier === "local://context");
    expect(context?.attrs).toMatchObject({ "local.session": "sess123", "local.excludepatterns": '["secret"]', "local.followpaths": '["a.txt"]', "local.sharedkeyhint": "context" });
    expect(context?.attrs?.["local.unique"]).toBeUndefined();
  }, 30_000);

  test("a daemon without proto.refarray gets the result's id in refDeprecated", async () => {
    const r = await runFrontend({ dockerfile: { Dockerfile: "FROM scratch\n" } }, {}, []);
    expect(r.code).toBe(0);
    expect(r.returned?.result?.refDeprecated).toMatch(/^ref\d+$/);
    expect(r.returned?.result?.ref).toBeFalsy();
  }, 30_000);

  test("a Dockerfile error is returned (UNKNOWN, as BuildKit's frontend returns its own errors) and the process exits non-zero", async () => {
    const r = await runFrontend({ dockerfile: { Dockerfile: "FROM scratch\nBOGUS x\n" } }, {});
    expect(r.code).toBe(1);
    expect(r.returned?.error?.code).toBe(Status.UNKNOWN);
    expect(r.returned?.error?.message).toContain("dockerfile parse error on line 2: unknown instruction: BOGUS");
    expect(r.stderr).toContain("error: dockerfile parse error on line 2: unknown instruction: BOGUS");
  }, 30_000);

  test("a missing Dockerfile is an error naming it", async () => {
    const r = await runFrontend({ dockerfile: {} }, {});
    expect(r.code).toBe(1);
    expect(r.returned?.error?.code).toBe(Status.UNKNOWN);
    expect(r.returned?.error?.message).toContain('Dockerfile not found in local "dockerfile"');
  }, 30_000);
});

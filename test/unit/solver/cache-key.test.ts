import { describe, expect, test } from "bun:test";
import type { Digest } from "../../../src/core/digest.ts";
import { image, LINUX_AMD64, LINUX_ARM64, mkfile, scratch, type State } from "../../../src/core/llb/index.ts";
import { loadDefinition, type LoadedDefinition } from "../../../src/core/llb/definition.ts";
import { cacheKey, outputKey } from "../../../src/core/solver/cache-key.ts";
import { BUN, REPO_ROOT } from "../../paths.ts";

/** The keys of every vertex of a state's graph, computed as the solver does (no content keys). */
async function keys(def: LoadedDefinition): Promise<Map<Digest, Digest>> {
  const out = new Map<Digest, Digest>();
  for (const digest of def.order) {
    const op = def.ops.get(digest);
    if (op === undefined || op === def.terminal) continue;
    const inputKeys = op.op.inputs.map((i) => outputKey(out.get(i.digest as Digest) as Digest, Number(i.index ?? 0)));
    out.set(digest, await cacheKey(op, inputKeys));
  }
  return out;
}

async function resultKey(state: State, platform = LINUX_AMD64): Promise<Digest> {
  const def = loadDefinition(state.marshal({ platform }));
  return (await keys(def)).get(def.result?.digest as Digest) as Digest;
}

const base = image("docker.io/library/busybox:latest");

describe("cacheKey", () => {
  test("the vertex name does not change the key, though it is in the definition", async () => {
    const a = base.run({ shlex: "echo hi", name: "first name" }).root();
    const b = base.run({ shlex: "echo hi", name: "another name" }).root();
    expect(await resultKey(a)).toBe(await resultKey(b));
    expect(await resultKey(a)).toBe(await resultKey(base.run({ shlex: "echo hi" }).root()));
  });

  test("ignore_cache and descriptions stay out of the key", async () => {
    const plain = base.run({ shlex: "date" }).root();
    const flagged = base.run({ shlex: "date", ignoreCache: true, description: { a: "b" } }).root();
    expect(await resultKey(flagged)).toBe(await resultKey(plain));
  });

  test("proxy settings and extra hosts' IPs stay out of an exec's key, as in BuildKit; host names do not", async () => {
    const plain = await resultKey(base.run({ shlex: "wget -O- http://db/" }).root());
    const proxied = await resultKey(base.run({ shlex: "wget -O- http://db/", proxyEnv: { httpProxy: "http://proxy:3128", noProxy: "localhost" } }).root());
    expect(proxied).toBe(plain);
    const host = (ip: string, name = "db") => resultKey(base.run({ shlex: "wget -O- http://db/", extraHosts: [{ host: name, ip }] }).root());
    expect(await host("10.0.0.5")).toBe(await host("192.168.1.9"));
    expect(await host("10.0.0.5")).not.toBe(plain);
    expect(await host("10.0.0.5", "cache")).not.toBe(await host("10.0.0.5"));
  });

  test("a different platform gives a different key", async () => {
    const st = base.run({ shlex: "uname -m" }).root();
    expect(await resultKey(st, LINUX_AMD64)).not.toBe(await resultKey(st, LINUX_ARM64));
  });

  test("a change in an input propagates to every dependent", async () => {
    const chain = (from: State): State => from.run({ shlex: "step 1" }).root().run({ shlex: "step 2" }).root();
    const alpine = image("docker.io/library/alpine:latest");
    expect(await resultKey(chain(base))).not.toBe(await resultKey(chain(alpine)));
  });

  test("equal work in different graphs shares a key", async () => {
    const step = base.run({ shlex: "make" }).root();
    const inOne = loadDefinition(step.marshal({ platform: LINUX_AMD64 }));
    const bigger = loadDefinition(step.file(mkfile("/x", 0o644, "x")).marshal({ platform: LINUX_AMD64 }));
    const stepDigest = inOne.result?.digest as Digest;
    expect((await keys(bigger)).get(stepDigest)).toBe((await keys(inOne)).get(stepDigest) as Digest);
  });

  test("content keys, input content keys and output indexes change the key", async () => {
    const def = loadDefinition(scratch().file(mkfile("/a", 0o644, "a")).marshal({ platform: LINUX_AMD64 }));
    const op = def.ops.get(def.result?.digest as Digest);
    if (op === undefined) throw new Error("no op");
    expect(await cacheKey(op, [], { contentKey: "x" })).not.toBe(await cacheKey(op, []));
    expect(await cacheKey(op, [], { contentKey: "x" })).not.toBe(await cacheKey(op, [], { contentKey: "y" }));
    const k = await cacheKey(op, []);
    expect(outputKey(k, 0)).not.toBe(outputKey(k, 1));
    const withInput = loadDefinition(base.file(mkfile("/a", 0o644, "a")).marshal({ platform: LINUX_AMD64 }));
    const fileOp = withInput.ops.get(withInput.result?.digest as Digest);
    if (fileOp === undefined) throw new Error("no op");
    const inputKey = outputKey(k, 0);
    const otherKey = outputKey(k, 1);
    expect(await cacheKey(fileOp, [inputKey], { inputContentKeys: ["sum"] })).toBe(await cacheKey(fileOp, [otherKey], { inputContentKeys: ["sum"] }));
    expect(await cacheKey(fileOp, [inputKey])).not.toBe(await cacheKey(fileOp, [inputKey], { inputContentKeys: ["sum"] }));
  });

  test("the number of input keys must match the op's inputs", async () => {
    const def = loadDefinition(base.run({ shlex: "true" }).root().marshal({ platform: LINUX_AMD64 }));
    const op = def.ops.get(def.result?.digest as Digest);
    if (op === undefined) throw new Error("no op");
    await expect(cacheKey(op, [])).rejects.toThrow(/1 inputs/);
  });

  test("keys are the same in another process", async () => {
    const st = base.run({ shlex: "echo hi" }).root().file(mkfile("/x", 0o600, "data"));
    const script = `
      import { image, mkfile, LINUX_AMD64 } from "./src/core/llb/index.ts";
      import { loadDefinition } from "./src/core/llb/definition.ts";
      import { cacheKey, outputKey } from "./src/core/solver/cache-key.ts";
      const st = image("docker.io/library/busybox:latest").run({ shlex: "echo hi" }).root().file(mkfile("/x", 0o600, "data"));
      const def = loadDefinition(st.marshal({ platform: LINUX_AMD64 }));
      const keys = new Map();
      for (const d of def.order) {
        const op = def.ops.get(d);
        if (op === def.terminal) continue;
        keys.set(d, await cacheKey(op, op.op.inputs.map((i) => outputKey(keys.get(i.digest), Number(i.index ?? 0)))));
      }
      console.log(keys.get(def.result.digest));
    `;
    const proc = Bun.spawn([BUN, "-e", script], { cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe" });
    const out = (await new Response(proc.stdout).text()).trim();
    expect(await proc.exited).toBe(0);
    expect(out).toBe(await resultKey(st));
  });
});

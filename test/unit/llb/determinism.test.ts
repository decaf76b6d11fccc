// The same graph gives the same bytes and digests in every process.
import { expect, test } from "bun:test";
import { BUN, REPO_ROOT } from "../../paths.ts";

const SCRIPT = `
import { image, local, scratch, copy, merge, mkfile } from "${REPO_ROOT}/src/core/llb/index.ts";
const ctx = local("ctx", { excludePatterns: ["node_modules"] });
const build = image("golang:1.22").run({ shlex: "go build ./...", cwd: "/src", env: { B: "1", A: "2" },
  mounts: [{ dest: "/src", source: ctx, readonly: true }, { dest: "/out", source: scratch() },
           { dest: "/root/.cache", source: scratch(), cache: { id: "go" } }] });
const out = merge([image("busybox"), scratch().file(copy(build.getMount("/out"), "/", "/bin/")), scratch().file(mkfile("/x", 0o644, "x"))]);
process.stdout.write(Buffer.from(out.marshal()).toString("hex"));
`;

async function marshalInFreshProcess(): Promise<string> {
  const p = Bun.spawn([BUN, "-e", SCRIPT], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  expect(await p.exited).toBe(0);
  return out;
}

test("two processes marshal a graph to identical bytes", async () => {
  const [a, b] = await Promise.all([marshalInFreshProcess(), marshalInFreshProcess()]);
  expect(a.length).toBeGreaterThan(100);
  expect(a).toBe(b);
});

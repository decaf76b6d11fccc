// The CLI contract for builds on a daemon (`build --addr`, against `buildkit serve`): an empty
// definition fails, -q prints nothing, --metadata-file has the exporters' response, and with
// --progress rawjson every line parses as JSON.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LINUX_AMD64, local } from "../../../src/core/llb/index.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { runClient, serveDaemon } from "./daemons.ts";

const run = requireIntegration("build --addr CLI contract", { runc: true, busybox: true });
const d = run ? serveDaemon() : undefined;
beforeAll(async () => {
  await d?.start();
});
afterAll(async () => {
  await d?.cleanup();
});

const def = (script: string) => local("rootfs").run({ args: ["sh", "-c", script] }).root().marshal({ platform: LINUX_AMD64 });
const lines = (text: string) => text.split("\n").filter((l) => l !== "");

describe.skipIf(!run)("build --addr CLI contract", () => {
  const build = (extra: string[], stdin: Uint8Array) => runClient(["build", "--addr", d!.addr, "--root", join(d!.dir, "client"), "--local", `rootfs=${d!.rootfs}`, ...extra], { stdin });

  test("empty stdin: exit 1, no definition", async () => {
    const r = await build([], new Uint8Array());
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("error: reading definition: no definition: stdin is empty (pipe one in or pass --file)\n");
  });

  test("-q prints nothing; --metadata-file has the local dest", async () => {
    const out = d!.temp("out");
    const meta = join(d!.temp("meta"), "m.json");
    const r = await build(["-q", "--output", `type=local,dest=${out}`, "--metadata-file", meta], def("echo remote > /r"));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(meta, "utf8"))).toEqual({ "local.dest": out, "containerimage.buildinfo": "e30=" }); // build information with no source: {}, as BuildKit v0.11 returns it
  });

  test("--progress rawjson: every line is JSON, the trace path included", async () => {
    const r = await build(["--progress", "rawjson"], def("echo hi"));
    expect(r.code).toBe(0);
    const records = lines(r.stderr).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.find((e) => e.type === "trace")?.path).toMatch(/traces\/.*\.jsonl$/);
    expect(records.some((e) => e.type === "vertex")).toBe(true);
  });
});

// The CLI contract of `buildkit build` on the standalone worker: --quiet prints nothing but
// errors, --metadata-file has the exporters' response as buildctl writes it, and with
// --progress rawjson every line on stdout and stderr parses as JSON.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { analyzeTrace } from "../../../src/core/progress/analysis.ts";
import type { TimedProgressEvent } from "../../../src/core/progress/trace.ts";
import { BuildHarness } from "./harness.ts";

const run = requireIntegration("build CLI contract tests", { runc: true, busybox: true });
let h: BuildHarness;
beforeAll(() => {
  if (run) h = new BuildHarness();
});
afterAll(() => h?.cleanup());

const sh = (script: string) => ({ args: ["sh", "-c", script] });
const lines = (text: string) => text.split("\n").filter((l) => l !== "");

describe.skipIf(!run)("build CLI contract", () => {
  test("-q prints nothing; --metadata-file holds the image digest and descriptor as JSON", async () => {
    const def = h.base().run(sh("echo quiet > /q")).root();
    const dir = h.temp("meta");
    const meta = join(dir, "metadata.json");
    const r = await h.build(def, ["-q", "--output", `type=oci,dest=${join(dir, "img.tar")}`, "--metadata-file", meta]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout.length).toBe(0);
    const m = JSON.parse(readFileSync(meta, "utf8")) as Record<string, unknown>;
    expect(m["containerimage.digest"]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(m["containerimage.config.digest"]).toMatch(/^sha256:[0-9a-f]{64}$/);
    // A base64 JSON value is embedded as the object, as buildctl writes it.
    const descriptor = m["containerimage.descriptor"] as Record<string, unknown>;
    expect(descriptor.digest).toBe(m["containerimage.digest"]);
    expect(descriptor.mediaType).toMatch(/manifest/);
  });

  test("--progress quiet with a local output: nothing printed, the dest in the metadata file", async () => {
    const out = h.temp("out");
    const meta = join(h.temp("meta"), "m.json");
    const r = await h.build(h.base().run(sh("echo x > /x")).root(), ["--progress", "quiet", "--output", `type=local,dest=${out}`, "--metadata-file", meta]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(JSON.parse(readFileSync(meta, "utf8"))).toEqual({ "local.dest": out, "containerimage.buildinfo": "e30=" }); // build information with no source: {}, as BuildKit v0.11 returns it
  });

  test("-q still prints the error of a failing build: the step's last output, then the error line", async () => {
    const r = await h.build(h.base().run(sh("echo noisy; exit 3")).root(), ["-q"]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain("trace: ");
    expect(r.stderr).toContain("  noisy\n");
    expect(lines(r.stderr).at(-1)).toMatch(/^error: .*exit code: 3/);
  });

  test("--progress rawjson: every line is JSON, the trace path and the response included", async () => {
    const dir = h.temp("rawjson");
    const r = await h.build(h.base().run(sh("echo hello")).root(), ["--progress", "rawjson", "--output", `type=oci,dest=${join(dir, "img.tar")}`]);
    expect(r.code).toBe(0);
    const records = lines(r.stderr).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.find((e) => e.type === "trace")?.path).toMatch(/traces\/.*\.jsonl$/);
    const response = records.find((e) => e.type === "response")?.response as Record<string, string>;
    expect(response["containerimage.digest"]).toMatch(/^sha256:/);
    expect(records.some((e) => e.type === "vertex")).toBe(true);
  });

  test("--progress rawjson: a failing build's error is a JSON line too", async () => {
    const r = await h.build(h.base().run(sh("echo boom; exit 5")).root(), ["--progress", "rawjson"]);
    expect(r.code).toBe(1);
    const records = lines(r.stderr).map((l) => JSON.parse(l) as Record<string, unknown>);
    const error = records.at(-1);
    expect(error?.type).toBe("error");
    expect(error?.exitCode).toBe(1);
    expect(String(error?.error)).toContain("exit code: 5");
  });

  test("--progress rawjson: a usage error is a JSON line", async () => {
    const r = await h.build(h.base(), ["--progress", "rawjson", "--no-such-flag"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr)).toMatchObject({ type: "error", exitCode: 2 });
  });

  test("the export step lists the result's vertex as its input: the critical path runs through the chain", async () => {
    const out = h.temp("out");
    const def = h.base().run(sh("sleep 0.3; echo a > /a")).root().run(sh("sleep 0.3; cat /a > /b")).root();
    const r = await h.build(def, ["--output", `type=local,dest=${out}`]);
    expect(r.code).toBe(0);
    const events = r.trace().filter((e) => e.type === "vertex") as unknown as TimedProgressEvent[];
    const exporter = events.find((e) => e.type === "vertex" && e.name.startsWith("exporting"));
    expect(exporter?.type === "vertex" ? exporter.inputs : []).toHaveLength(1);
    const a = analyzeTrace(events);
    const path = a.criticalPath.digests.map((d) => a.steps.find((s) => s.digest === d)?.name ?? "");
    expect(path).toHaveLength(4);
    expect(path[0]).toBe("local://rootfs");
    expect(path[3]).toStartWith("exporting");
  });
});

// --oci-runtime and [worker.oci] binary: what is accepted, what is a usage error.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../../src/cmd/exit.ts";
import { readServeConfig } from "../../../src/cmd/serve-config.ts";
import { parseOciRuntime, parseWorkerFlags } from "../../../src/cmd/worker-flags.ts";

const dir = mkdtempSync(join(tmpdir(), "buildkit-worker-flags-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(text: string): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(path, text);
  return path;
}

test("--oci-runtime takes runc, crun or a path; absent is the default", () => {
  expect(parseWorkerFlags({}).ociRuntime).toBeUndefined();
  expect(parseWorkerFlags({ "oci-runtime": "runc" }).ociRuntime).toBe("runc");
  expect(parseWorkerFlags({ "oci-runtime": "crun" }).ociRuntime).toBe("crun");
  expect(parseWorkerFlags({ "oci-runtime": "/opt/bin/youki" }).ociRuntime).toBe("/opt/bin/youki");
  expect(parseOciRuntime("./crun")).toBe("./crun");
});

test("--oci-runtime with another bare name, or with the containerd worker, is a usage error", () => {
  expect(() => parseWorkerFlags({ "oci-runtime": "youki" })).toThrow(UsageError);
  expect(() => parseWorkerFlags({ "oci-runtime": "" })).toThrow("--oci-runtime must be runc, crun or a path");
  expect(() => parseWorkerFlags({ worker: "containerd", "oci-runtime": "crun" })).toThrow("--oci-runtime is for --worker standalone");
});

test("[worker.oci] binary is read from buildkitd.toml", () => {
  expect(readServeConfig(config(`[worker.oci]\nbinary = "crun"\n`)).ociRuntime).toBe("crun");
  expect(readServeConfig(config(`[worker.oci]\nbinary = "/usr/sbin/runc"\ngc = false\n`))).toMatchObject({ ociRuntime: "/usr/sbin/runc", gc: false });
  expect(readServeConfig(config(`[worker.oci]\ngc = true\n`)).ociRuntime).toBeUndefined();
});

test("a bad [worker.oci] binary names the file and the key", () => {
  const bad = config(`[worker.oci]\nbinary = "youki"\n`);
  expect(() => readServeConfig(bad)).toThrow(`--config ${bad}: worker.oci.binary must be runc, crun or a path`);
  expect(() => readServeConfig(config(`[worker.oci]\nbinary = 3\n`))).toThrow("worker.oci.binary must be a string");
});

test("[history] maxAge (seconds) and maxEntries are read from buildkitd.toml; bad values name the key", () => {
  expect(readServeConfig(config(`[history]\nmaxAge = 3600\nmaxEntries = 5\n`)).history).toEqual({ maxAgeMs: 3_600_000, maxEntries: 5 });
  expect(readServeConfig(config(`[history]\nmaxEntries = 1\n`)).history).toEqual({ maxEntries: 1 });
  expect(readServeConfig(config(`root = "/x"\n`)).history).toBeUndefined();
  expect(() => readServeConfig(config(`[history]\nmaxAge = "2d"\n`))).toThrow("history.maxAge must be a whole number");
});

import { expect, test } from "bun:test";
import { image } from "../../../src/core/llb/index.ts";
import { lastOp } from "./helpers.ts";

test("withImageConfig gives steps the image's env and working directory, not its user (as Go)", () => {
  const s = image("busybox").withImageConfig({ Env: ["PATH=/usr/bin:/bin", "A=1=2", "EMPTY", "=x"], WorkingDir: "/app" });
  expect(s.env()).toEqual(["PATH=/usr/bin:/bin", "A=1=2", "EMPTY="]);
  expect(s.getDir()).toBe("/app");
  const meta = lastOp(s.run({ shlex: "true" })).exec!.meta!;
  expect(meta.env).toEqual(["PATH=/usr/bin:/bin", "A=1=2", "EMPTY="]);
  expect(meta.cwd).toBe("/app");
  expect(meta.user ?? "").toBe("");
});

test("withImageConfig on a whole image takes its platform too", () => {
  const s = image("busybox").withImageConfig({ architecture: "arm", os: "linux", variant: "v7", config: { Env: ["A=1"] } });
  expect(s.getPlatform()).toEqual({ os: "linux", architecture: "arm", variant: "v7" });
  expect(s.env()).toEqual(["A=1"]);
  expect(lastOp(s.run({ shlex: "true" })).platform).toMatchObject({ Architecture: "arm", OS: "linux", Variant: "v7" });
});

test("an empty config changes nothing", () => {
  const s = image("busybox").withImageConfig({});
  expect(s.env()).toEqual([]);
  expect(s.getDir()).toBe("/");
  expect(s.getUser()).toBeUndefined();
});

import { expect, test } from "bun:test";
import { image } from "../../../src/core/llb/index.ts";
import { lastOp } from "./helpers.ts";

test("withImageConfig gives steps the image's env, working directory and user", () => {
  const s = image("busybox").withImageConfig({ Env: ["PATH=/usr/bin:/bin", "A=1=2"], WorkingDir: "/app", User: "1000:1000" });
  expect(s.env()).toEqual(["PATH=/usr/bin:/bin", "A=1=2"]);
  expect(s.getDir()).toBe("/app");
  const meta = lastOp(s.run({ shlex: "true" })).exec!.meta!;
  expect(meta.env).toEqual(["PATH=/usr/bin:/bin", "A=1=2"]);
  expect(meta.cwd).toBe("/app");
  expect(meta.user).toBe("1000:1000");
});

test("an empty config changes nothing", () => {
  const s = image("busybox").withImageConfig({});
  expect(s.env()).toEqual([]);
  expect(s.getDir()).toBe("/");
  expect(s.getUser()).toBeUndefined();
});

import { describe, expect, test } from "bun:test";
import type { Digest } from "../../../src/core/digest.ts";
import { copy, diff, image, local, merge, mkdir, mkfile, rm, scratch, symlink, type State } from "../../../src/core/llb/index.ts";
import { vertexNames } from "../../../src/core/solver/vertex-name.ts";
import { load } from "./fakes.ts";

function resultName(state: State): string {
  const def = load(state);
  return vertexNames(def).get(def.result?.digest as Digest) ?? "";
}

const busybox = image("docker.io/library/busybox:latest");

describe("vertex names", () => {
  test("a source is named by its identifier", () => {
    expect(resultName(busybox)).toBe("docker-image://docker.io/library/busybox:latest");
  });

  test("a local source with one include pattern shows it", () => {
    expect(resultName(local("context", { includePatterns: ["src/**"] }))).toBe("local://context (src/**)");
    expect(resultName(local("context", { includePatterns: ["a", "b"] }))).toBe("local://context");
  });

  test("an exec is named by its args", () => {
    expect(resultName(busybox.run({ shlex: "sh -c 'echo hi'" }).root())).toBe("sh -c echo hi");
  });

  test("llb.customname wins", () => {
    expect(resultName(busybox.run({ shlex: "true", name: "[stage 1/2] RUN true" }).root())).toBe("[stage 1/2] RUN true");
  });

  test("a file op summarises its actions", () => {
    expect(resultName(scratch().file(mkfile("/hello", 0o644, "hi")))).toBe("mkfile /hello");
    const actions = mkdir("/app", 0o755).mkfile("/app/a", 0o644, "a").rm("/tmp").symlink("/app/a", "/b");
    expect(resultName(busybox.file(actions))).toBe("mkdir /app, mkfile /app/a, rm /tmp, symlink /b -> /app/a");
    expect(resultName(scratch().file(copy(busybox, "/src", "/app")))).toBe("copy /src /app");
  });

  test("merge and diff name their inputs", () => {
    const a = scratch().file(mkfile("/a", 0o644, "a"));
    const b = scratch().file(mkfile("/b", 0o644, "b"));
    expect(resultName(merge([a, b]))).toBe("merge (mkfile /a, mkfile /b)");
    expect(resultName(diff(a, b))).toBe("diff (mkfile /a) -> (mkfile /b)");
  });
});

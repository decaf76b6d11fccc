import { describe, expect, test } from "bun:test";
import { copy, diff, image, LLBError, local, merge, mkdir, mkfile, rm, scratch, symlink } from "../../../src/core/llb/index.ts";
import { lastOp, metadataOf, opsOf } from "./helpers.ts";

describe("file ops", () => {
  test("relative paths resolve against the state's directory", () => {
    const op = lastOp(image("busybox").dir("/work").file(mkdir("a", 0o700).mkfile("a/f", 0o600, "x").rm("old").symlink("f", "a/l")));
    const [a, b, c, d] = op.file!.actions!;
    expect(a!.mkdir).toMatchObject({ path: "/work/a", mode: 0o700, timestamp: -1 });
    expect(b!.mkfile).toMatchObject({ path: "/work/a/f", mode: 0o600 });
    expect(c!.rm).toMatchObject({ path: "/work/old" });
    expect(d!.symlink).toMatchObject({ oldpath: "f", newpath: "/work/a/l", timestamp: -1 });
    expect(op.file!.actions!.map((x) => [x.input, x.secondaryInput, x.output])).toEqual([[0, -1, -1], [1, -1, -1], [2, -1, -1], [3, -1, 0]]);
    expect(metadataOf(image("busybox").file(symlink("a", "/b")))!.caps).toEqual({ "file.base": true, "file.symlink.create": true });
  });

  test("copy options", () => {
    const when = new Date("2024-01-02T03:04:05.678Z");
    const src = local("ctx").dir("/sub");
    const op = lastOp(
      scratch().file(
        copy(src, "rel/*.ts", "/dst/", {
          includePatterns: ["**/*.ts"],
          excludePatterns: ["*.test.ts"],
          mode: "u+x",
          owner: "app:staff",
          createdTime: when,
          allowEmptyWildcard: true,
          alwaysReplaceExistingDestPaths: true,
          attemptUnpack: true,
          requiredPaths: ["a.ts"],
        }),
      ),
    );
    const c = op.file!.actions![0]!.copy!;
    expect(c).toMatchObject({
      src: "/sub/rel/*.ts",
      dest: "/dst/",
      mode: -1,
      modeStr: "u+x",
      include_patterns: ["**/*.ts"],
      exclude_patterns: ["*.test.ts"],
      allowEmptyWildcard: true,
      alwaysReplaceExistingDestPaths: true,
      attemptUnpackDockerCompatibility: true,
      required_paths: ["a.ts"],
      owner: { user: { byName: { name: "app", input: -1 } }, group: { byName: { name: "staff", input: -1 } } },
    });
    // Exact nanoseconds: a double would have rounded this.
    expect(String(c.timestamp)).toBe("1704164645678000000");
  });

  test("copy with a numeric mode and numeric owner", () => {
    const c = lastOp(image("busybox").file(copy(local("c"), "/a", "/b", { mode: 0o755, owner: { user: 0, group: 0 } }))).file!.actions![0]!.copy!;
    expect(c.mode).toBe(0o755);
    expect(c.owner).toEqual({ user: { byID: 0 }, group: { byID: 0 } } as never);
  });

  test("no caps for rm wildcards and copy patterns, as v0.11.6's Go client (test/vectors/llb-go/20-copy-options)", () => {
    expect(metadataOf(scratch().file(rm("/x*", { allowWildcard: true })))!.caps).toEqual({ "file.base": true });
    expect(metadataOf(scratch().file(copy(local("c"), "/", "/", { includePatterns: ["a"] })))!.caps).toEqual({ "file.base": true });
  });

  test("misuse", () => {
    expect(() => scratch().file(mkdir("", 0o755))).toThrow(new LLBError("mkdir: path is required"));
    expect(() => scratch().file(copy(local("c"), "", "/"))).toThrow(new LLBError("copy: source path is required"));
  });
});

describe("merge and diff", () => {
  test("merge drops scratch inputs; one input is itself; none is scratch", () => {
    const a = scratch().file(mkfile("/a", 0o644, "a"));
    expect(lastOp(merge([scratch(), a, image("busybox")])).merge!.inputs!.length).toBe(2);
    expect(merge([scratch(), a])).toBe(a);
    expect(merge([]).output()).toBeUndefined();
    expect(lastOp(merge([a, image("busybox")])).platform ?? undefined).toBeUndefined();
  });

  test("diff against scratch is the upper state; otherwise lower and upper inputs", () => {
    const up = image("busybox").run({ shlex: "true" }).root();
    expect(diff(scratch(), up)).toBe(up);
    const op = lastOp(diff(image("busybox"), up));
    expect(op.diff).toMatchObject({ lower: {}, upper: { input: 1 } });
    const toScratch = lastOp(diff(image("busybox"), scratch()));
    expect(toScratch.diff).toMatchObject({ lower: {}, upper: { input: -1 } });
    expect(opsOf(diff(image("busybox"), up)).length).toBe(3);
  });
});

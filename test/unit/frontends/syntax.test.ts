// The frontend a Dockerfile names (BuildKit's parser.DetectSyntax) and when the build is handed to it.
import { describe, expect, test } from "bun:test";
import { detectSyntax, syntaxForward } from "../../../src/core/frontends/dockerfile/syntax.ts";

describe("detectSyntax", () => {
  test("a leading # syntax= directive: the image, and the whole value as cmdline", () => {
    expect(detectSyntax("# syntax=reg/fe:1 --x y\nFROM scratch\n")).toEqual({ ref: "reg/fe:1", cmdline: "reg/fe:1 --x y" });
    expect(detectSyntax("#SYNTAX = reg/fe  \nFROM scratch\n")).toEqual({ ref: "reg/fe", cmdline: "reg/fe" });
  });

  test("after an escape directive and a shebang; // comments; a JSON document's syntax key", () => {
    expect(detectSyntax("# escape=`\n# syntax=reg/fe\nFROM scratch\n")?.ref).toBe("reg/fe");
    expect(detectSyntax("#!/usr/bin/env buildctl\n# syntax=reg/fe\n")?.ref).toBe("reg/fe");
    expect(detectSyntax("// syntax=reg/fe\n")?.ref).toBe("reg/fe");
    expect(detectSyntax('{"syntax": "reg/json"}')).toEqual({ ref: "reg/json", cmdline: "reg/json" });
  });

  test("none once a line is not a directive (a blank line, another comment, an instruction)", () => {
    expect(detectSyntax("\n# syntax=reg/fe\n")).toBeUndefined();
    expect(detectSyntax("# hello\n# syntax=reg/fe\n")).toBeUndefined();
    expect(detectSyntax("FROM scratch\n# syntax=reg/fe\n")).toBeUndefined();
    expect(detectSyntax("FROM scratch\n")).toBeUndefined();
  });
});

describe("syntaxForward", () => {
  test("BUILDKIT_SYNTAX wins over the directive; cmdline (a forwarded run) means no forward", () => {
    expect(syntaxForward({ "build-arg:BUILDKIT_SYNTAX": "reg/arg --z" }, "# syntax=reg/fe\n")).toEqual({ ref: "reg/arg", cmdline: "reg/arg --z" });
    expect(syntaxForward({ cmdline: "reg/fe" }, "# syntax=reg/fe\n")).toBeUndefined();
  });

  test("docker/dockerfile and docker/dockerfile-upstream, any tag or registry spelling, stay built in", () => {
    for (const ref of ["docker/dockerfile:1", "docker/dockerfile", "docker.io/docker/dockerfile:1.4-labs", "index.docker.io/docker/dockerfile-upstream:master", "docker/dockerfile@sha256:" + "a".repeat(64)]) {
      expect(syntaxForward({}, `# syntax=${ref}\nFROM scratch\n`)).toBeUndefined();
    }
    expect(syntaxForward({}, "# syntax=example.com/docker/dockerfile:1\n")?.ref).toBe("example.com/docker/dockerfile:1");
  });
});

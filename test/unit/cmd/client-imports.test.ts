// The client commands must start on macOS and Windows: nothing Linux-only (the standalone
// backend: runc, overlayfs, mount(2) through bun:ffi) may be imported statically on their path;
// daemonless builds and `serve` load it with dynamic imports.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { requireLinux } from "../../../src/cmd/daemon-flags.ts";
import { REPO_ROOT } from "../../paths.ts";

const transpiler = new Bun.Transpiler({ loader: "ts" });

/** Every module reached from `entries` through static (not dynamic, not type-only) imports. */
function staticClosure(entries: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, "utf8").replace(/^#!.*/, "");
    for (const imp of transpiler.scanImports(source)) {
      if (imp.kind !== "import-statement" || !imp.path.startsWith(".") || imp.path.endsWith(".json")) continue;
      visit(resolve(dirname(file), imp.path));
    }
  };
  for (const e of entries) visit(resolve(REPO_ROOT, e));
  return new Set([...seen].map((f) => relative(REPO_ROOT, f)));
}

const CLIENT_ENTRIES = [
  "src/cmd/main.ts",
  "src/cmd/build.ts",
  "src/cmd/remote-build.ts",
  "src/cmd/du.ts",
  "src/cmd/prune.ts",
  "src/cmd/debug.ts",
  "src/api/client/workers.ts",
  "src/api/client/cache-calls.ts",
];

describe("the client commands' start-up imports", () => {
  test("reach no backend", () => {
    const modules = [...staticClosure(CLIENT_ENTRIES)];
    expect(modules).toContain("src/api/client/solve.ts");
    expect(modules.filter((m) => m.startsWith("src/backends/"))).toEqual([]);
    expect(modules.filter((m) => /\/sys\/mount(info)?\.ts$/.test(m))).toEqual([]);
  });

  test("serve is loaded only when run", () => {
    expect([...staticClosure(["src/cmd/main.ts"])].filter((m) => m.includes("serve"))).toEqual([]);
  });
});

test("daemonless commands outside Linux say so in one line, with what to do", () => {
  expect(() => requireLinux("building", "linux")).not.toThrow();
  for (const platform of ["darwin", "win32"]) {
    let message = "";
    try {
      requireLinux("building", platform);
    } catch (err) {
      message = err instanceof Error ? err.message : String(err);
    }
    expect(message).toBe("building daemonless needs Linux (runc, overlayfs); point at a build host with --addr tcp://HOST:PORT (or BUILDKIT_HOST)");
  }
});

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
    // The backend table itself may load (it names each backend's module in a dynamic import);
    // no backend's own module may.
    expect(modules.filter((m) => m.startsWith("src/backends/") && m !== "src/backends/index.ts")).toEqual([]);
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

test("in the split bundle the binaries are compiled from, the client chunks load no backend chunk", async () => {
  const { mkdtempSync, readdirSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const out = mkdtempSync(join(tmpdir(), "bk-split-"));
  try {
    const r = await Bun.build({ entrypoints: [resolve(REPO_ROOT, "src/cmd/main.ts")], outdir: out, splitting: true, target: "bun", format: "esm" });
    expect(r.success).toBe(true);
    const files = readdirSync(out);
    const text = new Map(files.map((f) => [f, readFileSync(join(out, f), "utf8")]));
    const holding = (needle: string) => files.filter((f) => text.get(f)?.includes(needle));
    const closure = (start: string) => {
      const seen = new Set<string>();
      const todo = [start];
      for (let f = todo.pop(); f !== undefined; f = todo.pop()) {
        if (seen.has(f)) continue;
        seen.add(f);
        for (const m of (text.get(f) ?? "").matchAll(/^import\s[^;]*?from\s*"\.\/([^"]+)"|^import\s*"\.\/([^"]+)"/gm)) todo.push((m[1] ?? m[2]) as string);
      }
      return seen;
    };
    const backend = holding("src/backends/standalone");
    expect(backend.length).toBeGreaterThan(0);
    for (const start of ["main.js", ...holding("src/api/client/solve.ts"), ...holding("src/cmd/du.ts")]) {
      expect([...closure(start)].filter((f) => backend.includes(f))).toEqual([]);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 60_000);

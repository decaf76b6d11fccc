// The committed protobuf code must be what scripts/gen-pb.ts makes from the .proto files.
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUN, REPO_ROOT } from "../../paths.ts";

/** Each generated module and the directory its committed code lives in. */
const MODULES: Record<string, string> = { ops: "src/core/pb", api: "src/api/pb", session: "src/api/pb", containerd: "src/backends/containerd/pb" };

test("generated protobuf code is up to date", async () => {
  const out = mkdtempSync(join(tmpdir(), "gen-pb-"));
  try {
    const p = Bun.spawn([BUN, join(REPO_ROOT, "scripts/gen-pb.ts"), "--out", out], { stdout: "pipe", stderr: "pipe" });
    expect(await p.exited).toBe(0);
    const files = readdirSync(out).filter((f) => !f.startsWith("."));
    // The LLB schema as data for pb/decode.ts comes from ops.proto too.
    const expected = [...Object.keys(MODULES).flatMap((m) => [`${m}.d.ts`, `${m}.js`]), "ops-schema.ts"];
    expect(files.sort()).toEqual(expected.sort());
    for (const f of files) {
      const dir = f === "ops-schema.ts" ? "src/core/pb" : (MODULES[f.replace(/\.(d\.ts|js)$/, "")] ?? "");
      const committed = readFileSync(join(REPO_ROOT, dir, f), "utf8");
      expect(readFileSync(join(out, f), "utf8") === committed, `${dir}/${f} is stale: run bun scripts/gen-pb.ts`).toBe(true);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 120_000);

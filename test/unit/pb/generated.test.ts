// The committed protobuf code must be what scripts/gen-pb.ts makes from the .proto files.
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUN, REPO_ROOT } from "../../paths.ts";

test("src/core/pb generated code is up to date", async () => {
  const out = mkdtempSync(join(tmpdir(), "gen-pb-"));
  try {
    const p = Bun.spawn([BUN, join(REPO_ROOT, "scripts/gen-pb.ts"), "--out", out], { stdout: "pipe", stderr: "pipe" });
    expect(await p.exited).toBe(0);
    const files = readdirSync(out).filter((f) => !f.startsWith("."));
    expect(files.sort()).toEqual(["ops.d.ts", "ops.js"]);
    for (const f of files) {
      const committed = readFileSync(join(REPO_ROOT, "src/core/pb", f), "utf8");
      expect(readFileSync(join(out, f), "utf8") === committed, `${f} is stale: run bun scripts/gen-pb.ts`).toBe(true);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 60_000);

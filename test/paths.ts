// Where tests find things: the checkout they run from, the shared LLB vectors beside it
// (../shared/llb-vectors, as CI lays it out), and the bun running them.
import { resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dir, "..");
export const VECTORS_DIR = resolve(REPO_ROOT, "../shared/llb-vectors");
export const BUN = process.execPath;
export const CLI = resolve(REPO_ROOT, "src/cmd/main.ts");

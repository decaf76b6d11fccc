// Replacing a small state file whole: written beside it under a temporary name, then renamed
// over it, so a reader (or a crash) sees the old file or the new one, never a part.
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { withContext } from "../errors.ts";

/** Writes data to file through a temporary file and a rename; the parent is made if missing. */
export function replaceFileSync(file: string, data: string | Uint8Array, context: string): void {
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(temp, data);
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw withContext(context, err);
  }
}

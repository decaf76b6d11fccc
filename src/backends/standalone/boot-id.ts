import { readFileSync } from "node:fs";

const BOOT_ID = "/proc/sys/kernel/random/boot_id";
let cached: string | undefined;

/**
 * The kernel's id of the current boot (a UUID that changes at every boot): data written but not
 * yet synced under another boot id may have been lost when the machine went down.
 */
export function currentBootId(): string {
  cached ??= readFileSync(BOOT_ID, "utf8").trim();
  return cached;
}

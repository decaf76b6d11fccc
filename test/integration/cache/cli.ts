// Runs `buildkit du` / `buildkit prune` against a harness's state dir, as a user would.
import type { UsageRecord } from "../../../src/core/cache/usage.ts";
import { BUN, CLI } from "../../paths.ts";

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** When the process exited (ms since the epoch). */
  readonly exitedAt: number;
}

export async function cli(args: readonly string[]): Promise<CliRun> {
  const proc = Bun.spawn([BUN, CLI, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr, exitedAt: Date.now() };
}

/** `buildkit du --format json`: every record. */
export async function records(root: string, ...filters: string[]): Promise<UsageRecord[]> {
  const r = await cli(["du", "--root", root, "--format", "json", ...filters.flatMap((f) => ["--filter", f])]);
  if (r.code !== 0) throw new Error(`buildkit du failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as UsageRecord[];
}

export const totalSize = (rs: readonly UsageRecord[]) => rs.reduce((sum, r) => sum + r.size, 0);

export const sh = (script: string) => ({ args: ["sh", "-c", script] });

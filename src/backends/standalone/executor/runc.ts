// Finding and driving the runc binary: `run` is spawned by the executor and streamed; the short
// commands here (kill, delete, list) run to completion and report their output.
import { accessSync, constants, existsSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { BuildkitError } from "../../../core/errors.ts";
import { runtimeArgv } from "./hybrid-cgroups.ts";
import type { RuntimeInvocation } from "./hybrid-cgroups.ts";

/** Where Debian puts runc and crun, searched after PATH (root's PATH has /usr/sbin, a user's may not). */
const FALLBACK_DIRS = ["/usr/sbin", "/usr/bin", "/sbin", "/usr/local/sbin", "/usr/local/bin"];

export type OciRuntimeName = "runc" | "crun";

const installHint = (name: OciRuntimeName) => `install Debian's ${name} package (apt-get install ${name})`;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The named runtime on PATH or in the usual sbin dirs; undefined when it is not installed. */
export function whichRuntime(name: OciRuntimeName): string | undefined {
  const onPath = Bun.which(name);
  if (onPath) return onPath;
  return FALLBACK_DIRS.map((dir) => join(dir, name)).find(isExecutable);
}

/** An OCI runtime binary (runc's command line): path when given, else the named one installed. */
export function findOciRuntime(name: OciRuntimeName, path?: string): string {
  if (path !== undefined) {
    if (isExecutable(path)) return path;
    throw new BuildkitError("FailedPrecondition", `${basename(path).includes("crun") ? "crun" : "runc"} not found at ${path}: ${installHint(name)}`);
  }
  const found = whichRuntime(name);
  if (found) return found;
  throw new BuildkitError("FailedPrecondition", `${name} not found: ${installHint(name)}`);
}

/** The runc binary: runcPath when given (any runtime with runc's command line), else `runc` installed. */
export function findRunc(runcPath?: string): string {
  return findOciRuntime("runc", runcPath);
}

/**
 * The runtime's state dir (`--root`) under root: `runc/` for runc, as before; `state-<name>/`
 * for others, so runtimes never read each other's state.
 */
export function runtimeStateDir(root: string, runtimePath?: string): string {
  const name = runtimePath === undefined ? "runc" : basename(runtimePath);
  return join(root, name === "runc" ? "runc" : `state-${name}`);
}

/** One runc binary with its state dir (`runc --root`). */
export interface Runc {
  readonly path: string;
  readonly stateDir: string;
  /** How every command of this runtime is run (hybrid-cgroups.ts); DIRECT for most hosts. */
  readonly how: RuntimeInvocation;
}

export interface RuncResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `runc --root <stateDir> <args…>` to completion. */
export async function runcCommand(runc: Runc, args: readonly string[]): Promise<RuncResult> {
  const proc = Bun.spawn(runtimeArgv(runc.how, runc.path, ["--root", runc.stateDir, ...args]), { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

/** True while runc still has state for the container (so `runc delete` has work to do). */
export function hasContainerState(runc: Runc, id: string): boolean {
  return existsSync(join(runc.stateDir, id));
}

/** `runc kill <id> KILL`; false when runc refused (the container is not there, or not yet). */
export async function killContainer(runc: Runc, id: string): Promise<boolean> {
  const result = await runcCommand(runc, ["kill", id, "KILL"]);
  return result.exitCode === 0;
}

/** `runc delete --force <id>` when runc has state for it; a failure is thrown. */
export async function deleteContainer(runc: Runc, id: string): Promise<void> {
  if (!hasContainerState(runc, id)) return;
  const result = await runcCommand(runc, ["delete", "--force", id]);
  if (result.exitCode !== 0 && hasContainerState(runc, id)) {
    throw new BuildkitError("Internal", `deleting container ${id}: ${result.stderr.trim() || `runc exited ${result.exitCode}`}`);
  }
}

/** Ids of the containers runc knows in its state dir. */
export async function listContainers(runc: Runc): Promise<string[]> {
  // runc keeps one directory per container in its state dir: when there is none, there is
  // nothing to list, and the common start-up path skips spawning runc (~20 ms).
  if (!existsSync(runc.stateDir) || readdirSync(runc.stateDir).length === 0) return [];
  const result = await runcCommand(runc, ["list", "--format", "json"]);
  if (result.exitCode !== 0) {
    throw new BuildkitError("Internal", `listing containers in ${runc.stateDir}: ${result.stderr.trim() || `runc exited ${result.exitCode}`}`);
  }
  const parsed: unknown = JSON.parse(result.stdout.trim() || "null");
  if (!Array.isArray(parsed)) return [];
  return parsed.flatMap((c: unknown) => (typeof c === "object" && c !== null && "id" in c && typeof c.id === "string" ? [c.id] : []));
}

/** The error-level messages of a runc `--log-format json` log, oldest first. */
export function runcLogErrors(log: string): string[] {
  const errors: string[] = [];
  for (const line of log.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const entry: unknown = JSON.parse(line);
      if (typeof entry !== "object" || entry === null) continue;
      const level = "level" in entry ? entry.level : undefined;
      const msg = "msg" in entry ? entry.msg : undefined;
      if ((level === "error" || level === "fatal") && typeof msg === "string") errors.push(msg);
    } catch {
      errors.push(line.trim());
    }
  }
  return errors;
}

// Runs `buildkit build` as a user would: a definition on stdin, a state dir, local dirs.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { State } from "../../../src/core/llb/index.ts";
import { LINUX_AMD64, local } from "../../../src/core/llb/index.ts";
import { makeBusyboxRootfs } from "../../fixtures/busybox-rootfs.ts";
import { liveContainers } from "../../fixtures/containers.ts";
import { BUN, CLI } from "../../paths.ts";

export interface BuildRun {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly tracePath: string;
  trace(): Record<string, unknown>[];
}

/** Reads a spawned build's stderr until `text` appears (or the stream ends); returns what was read. */
export async function waitForOutput(proc: { readonly stderr: ReadableStream<Uint8Array> }, text: string): Promise<string> {
  const reader = proc.stderr.getReader();
  let seen = "";
  while (!seen.includes(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += new TextDecoder().decode(value);
  }
  return seen;
}

/** A temp world for one test file: a state dir, a busybox rootfs and scratch dirs. */
export class BuildHarness {
  readonly dir = mkdtempSync(join(tmpdir(), "bk-it-"));
  readonly root = join(this.dir, "state");
  readonly rootfs = join(this.dir, "rootfs");

  constructor() {
    makeBusyboxRootfs(this.rootfs);
  }

  /** The busybox base every test builds on: a local source named "rootfs". */
  base(): State {
    return local("rootfs");
  }

  temp(name: string): string {
    return mkdtempSync(join(this.dir, `${name}-`));
  }

  spawn(def: State | Uint8Array, args: string[] = [], opts: { locals?: Record<string, string>; env?: Record<string, string> } = {}) {
    const bytes = def instanceof Uint8Array ? def : def.marshal({ platform: LINUX_AMD64 });
    const locals = { rootfs: this.rootfs, ...opts.locals };
    const argv = [BUN, CLI, "build", "--root", this.root, "--progress", "plain", ...Object.entries(locals).flatMap(([k, v]) => ["--local", `${k}=${v}`]), ...args];
    const proc = Bun.spawn(argv, { stdin: new Blob([bytes]), stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1", ...opts.env } });
    return proc;
  }

  async build(def: State | Uint8Array, args: string[] = [], opts: { locals?: Record<string, string>; env?: Record<string, string> } = {}): Promise<BuildRun> {
    const proc = this.spawn(def, args, opts);
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).arrayBuffer(), new Response(proc.stderr).text(), proc.exited]);
    const tracePath = /^trace: (.*)$/m.exec(stderr)?.[1] ?? "";
    return {
      code,
      stdout: Buffer.from(stdout),
      stderr,
      tracePath,
      trace: () =>
        readFileSync(tracePath, "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as Record<string, unknown>),
    };
  }

  /** Mounts still present under this harness's directory (there should be none after a build). */
  leftoverMounts(): string[] {
    return readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((l) => l.split(" ")[4] ?? "")
      .filter((m) => m.startsWith(this.dir));
  }

  /** Containers the OCI runtime (runc or crun) still has state for in this root. */
  leftoverContainers(): string[] {
    return existsSync(join(this.root, "executor")) ? liveContainers(join(this.root, "executor")) : [];
  }

  cleanup(): void {
    for (const m of this.leftoverMounts().reverse()) Bun.spawnSync(["umount", "-l", m]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// Starts `buildkit serve` for a test as a build host would, and drives it with BuildKit's own
// buildctl (../shared/peers) or our client.
import { join } from "node:path";
import type { Subprocess } from "bun";
import { DaemonDir } from "../../fixtures/daemon-dir.ts";
import { BUILDCTL, peerAvailable, peerMissing } from "../../fixtures/peers.ts";
import { BUN, CLI } from "../../paths.ts";

export { BUILDCTL };

/** Whether BuildKit's buildctl is here; under CI=true its absence is a failure. */
export function buildctlAvailable(suite: string): boolean {
  return peerAvailable(suite, peerMissing(BUILDCTL));
}

export interface Run {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** One daemon with its own state, socket and a busybox rootfs to build on. */
export class ServeHarness extends DaemonDir {
  readonly root = join(this.dir, "state");
  readonly socket = join(this.dir, "run", "buildkitd.sock");
  proc: Subprocess<"ignore", "pipe", "pipe"> | undefined;
  stderrText = "";

  constructor() {
    super("bk-serve-");
  }

  get addr(): string {
    return `unix://${this.socket}`;
  }

  /** Starts the daemon; resolves once it serves every address it was given. */
  async start(extra: string[] = []): Promise<void> {
    const args = [BUN, CLI, "serve", "--root", this.root, "--addr", this.addr, ...extra];
    const proc = Bun.spawn(args, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    this.proc = proc;
    const want = 1 + extra.filter((a) => a === "--addr").length;
    const reader = proc.stderr.getReader();
    const decoder = new TextDecoder();
    const deadline = Date.now() + 30_000;
    while ((this.stderrText.match(/^serving on /gm) ?? []).length < want) {
      if (Date.now() > deadline) throw new Error(`buildkit serve did not start: ${this.stderrText}`);
      const { value, done } = await reader.read();
      if (done) throw new Error(`buildkit serve exited: ${this.stderrText}`);
      this.stderrText += decoder.decode(value);
    }
    // Keep draining stderr so the daemon never blocks on a full pipe.
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        this.stderrText += decoder.decode(value);
      }
    })();
  }

  /** The TCP address it printed (for `--addr tcp://127.0.0.1:0`). */
  tcpAddress(): string {
    const m = /^serving on (tcp:\/\/\S+)$/m.exec(this.stderrText);
    if (!m?.[1]) throw new Error(`no tcp address in: ${this.stderrText}`);
    return m[1];
  }

  async buildctl(args: string[], opts: { stdin?: Uint8Array; addr?: string; timeoutMs?: number } = {}): Promise<Run> {
    const p = Bun.spawn([BUILDCTL, "--addr", opts.addr ?? this.addr, ...args], {
      stdin: opts.stdin ? new Blob([opts.stdin]) : "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, BUILDKIT_HOST: "" },
    });
    const timer = setTimeout(() => p.kill(), opts.timeoutMs ?? 90_000);
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).arrayBuffer(), new Response(p.stderr).text(), p.exited]);
    clearTimeout(timer);
    return { code, stdout: Buffer.from(stdout), stderr };
  }

  /** Stops the daemon with SIGTERM; resolves with its exit code. */
  async stop(): Promise<number | null> {
    const proc = this.proc;
    if (!proc) return null;
    this.proc = undefined;
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
    const code = await proc.exited;
    clearTimeout(timer);
    return code;
  }

  async cleanup(): Promise<void> {
    await this.stop();
    this.removeAll();
  }
}

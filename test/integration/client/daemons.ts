// The daemons our client is tested against: `buildkit serve` (ServeHarness) and BuildKit
// v0.11.6's own buildkitd from ../shared/peers, each with its own state, socket and busybox
// rootfs; plus a runner for our CLI as a client.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { DaemonDir } from "../../fixtures/daemon-dir.ts";
import { BUILDKITD, peerAvailable, peerMissing } from "../../fixtures/peers.ts";
import { BUN, CLI } from "../../paths.ts";
import { ServeHarness } from "../serve/daemon.ts";

export { BUILDKITD };

export interface TestDaemon {
  readonly kind: "serve" | "buildkitd";
  readonly addr: string;
  readonly rootfs: string;
  readonly dir: string;
  temp(name: string): string;
  start(extra?: string[]): Promise<void>;
  leftoverMounts(): string[];
  cleanup(): Promise<void>;
}

/** Whether the peer buildkitd is here; under CI=true its absence is a failure. */
export function buildkitdAvailable(suite: string): boolean {
  return peerAvailable(suite, peerMissing(BUILDKITD));
}

/** BuildKit's buildkitd with its own root and socket; killed and its mounts undone at the end. */
export class PeerDaemon extends DaemonDir implements TestDaemon {
  readonly kind = "buildkitd" as const;
  readonly root = join(this.dir, "root");
  readonly socket = join(this.dir, "buildkitd.sock");
  #proc: Subprocess<"ignore", "ignore", "pipe"> | undefined;

  constructor() {
    super("bk-peer-");
  }

  get addr(): string {
    return `unix://${this.socket}`;
  }

  async start(extra: string[] = []): Promise<void> {
    const args = [BUILDKITD, "--root", this.root, "--addr", this.addr, "--oci-worker-net", "host", "--oci-worker-gc=false", ...extra];
    this.#proc = Bun.spawn(args, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    const deadline = Date.now() + 30_000;
    while (!existsSync(this.socket)) {
      if (this.#proc.exitCode !== null) throw new Error(`buildkitd exited: ${await new Response(this.#proc.stderr).text()}`);
      if (Date.now() > deadline) throw new Error("buildkitd did not create its socket in 30 s");
      await Bun.sleep(100);
    }
    void new Response(this.#proc.stderr).text().catch(() => ""); // drain
  }

  async cleanup(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (proc) {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      await proc.exited;
      clearTimeout(timer);
    }
    this.removeAll();
  }
}

/** `buildkit serve` as a TestDaemon. */
export function serveDaemon(): TestDaemon {
  const h = new ServeHarness();
  return Object.assign(h, { kind: "serve" as const });
}

/** BuildKit's buildkitd and our serve side by side, both reaching a registry over plain HTTP. */
export interface PeerAndServe {
  readonly peer: PeerDaemon;
  readonly serve: TestDaemon;
  /** The buildkitd.toml both were given (a daemonless build may take it too). */
  readonly config: string;
  stop(): Promise<void>;
}

/** extraToml is appended to the config (e.g. a `[registry."docker.io"] mirrors` section). */
export async function startPeerAndServe(configDir: string, registryHost: string, extraToml = ""): Promise<PeerAndServe> {
  const config = join(configDir, "buildkitd.toml");
  writeFileSync(config, `[registry."${registryHost}"]\n  http = true\n${extraToml}`);
  const peer = new PeerDaemon();
  const serve = serveDaemon();
  const stop = async () => {
    await serve.cleanup();
    await peer.cleanup();
  };
  try {
    await peer.start(["--config", config]);
    await serve.start(["--config", config]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { peer, serve, config, stop };
}

export interface ClientRun {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs our CLI (as a client) to completion; BUILDKIT_HOST is cleared unless env sets it. */
export async function runClient(args: string[], opts: { stdin?: Uint8Array; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ClientRun> {
  const p = Bun.spawn([BUN, CLI, ...args], {
    stdin: opts.stdin ? new Blob([opts.stdin]) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, BUILDKIT_HOST: "", NO_COLOR: "1", ...opts.env },
  });
  const timer = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs ?? 90_000);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).arrayBuffer(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, stdout: Buffer.from(stdout), stderr };
}

/** The last `transferring NAME` figure (bytes) a rawjson progress stream reported. */
export function transferredBytes(rawjson: string, name: string): number {
  let bytes = -1;
  for (const line of rawjson.split("\n")) {
    if (!line.startsWith("{")) continue;
    const e = JSON.parse(line) as { type: string; id?: string; current?: number };
    // "transferring NAME:", as BuildKit names it (ours lacked the colon before).
    if (e.type === "status" && (e.id === `transferring ${name}` || e.id === `transferring ${name}:`)) bytes = Math.max(bytes, e.current ?? 0);
  }
  return bytes;
}

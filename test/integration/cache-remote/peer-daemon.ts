// A fresh buildkitd v0.11.6 for one piece of a cache interchange test: its own root and socket,
// reaching the test registry over plain http; stopped, and checked for leftover mounts, after.
import { expect } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PeerDaemon } from "../client/daemons.ts";

export async function withPeer(registryHost: string, fn: (peer: PeerDaemon) => Promise<void> | void): Promise<void> {
  const peer = new PeerDaemon();
  const config = join(peer.dir, "buildkitd.toml");
  writeFileSync(config, `[registry."${registryHost}"]\n  http = true\n`);
  await peer.start(["--config", config]);
  try {
    await fn(peer);
  } finally {
    await peer.cleanup();
  }
  expect(peer.leftoverMounts()).toEqual([]);
}

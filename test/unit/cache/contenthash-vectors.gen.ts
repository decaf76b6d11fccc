// Regenerates contenthash-vectors.json: BuildKit v0.11.6's content-checksum cache records for
// TREE_VECTORS. Each vector is a copy from the tree (local source, or a copy of it) into a chain
// of file ops, built by the peer buildkitd (../shared/peers) with `buildctl build` and exported
// with --export-cache type=local,mode=max. A copy's record links its second input, with no
// selector, to a record rootKey(NewContentHashFunc digest, -1): that digest is the vector.
// Run as root: bun test/unit/cache/contenthash-vectors.gen.ts
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildkitCacheMap, rootKey } from "../../../src/core/cache/remote/buildkit-cache-map.ts";
import { loadDefinition } from "../../../src/core/llb/definition.ts";
import { copy, local, scratch, LINUX_AMD64 } from "../../../src/core/llb/index.ts";
import { PeerDaemon } from "../../integration/client/daemons.ts";
import { readLayout } from "../../integration/cache-remote/helpers.ts";
import { makeContentTree, TREE_VECTORS } from "../../fixtures/content-tree.ts";

import { BUILDCTL } from "../../fixtures/peers.ts";
const work = mkdtempSync(join(tmpdir(), "ctxsum-gen-"));
const context = join(work, "context");
const cache = join(work, "cache");
Bun.spawnSync(["mkdir", context]);
makeContentTree(context);
chmodSync(context, 0o755);

const ctx = local("context");
const whole = scratch().file(copy(ctx, "/", "/", { copyDirContentsOnly: true }));
let state = scratch();
TREE_VECTORS.forEach((v, i) => {
  const from = v.scanned ? whole : ctx;
  state = state.file(copy(from, v.src, `/out/${i}/`, { createDestPath: true, followSymlinks: v.followSymlinks, allowWildcard: v.allowWildcard, includePatterns: v.includePatterns, excludePatterns: v.excludePatterns }));
});
const def = state.marshal({ platform: LINUX_AMD64 });

const peer = new PeerDaemon();
try {
  await peer.start();
  const p = Bun.spawnSync([BUILDCTL, "--addr", peer.addr, "build", "--progress", "plain", "--local", `context=${context}`, "--export-cache", `type=local,dest=${cache},mode=max`], { stdin: def, timeout: 120_000 });
  if (p.exitCode !== 0) throw new Error(`buildctl build: ${p.stderr.toString()}`);
  const { config } = readLayout(cache);
  const records = config.records ?? [];
  const loaded = loadDefinition(def);
  const out: Record<string, string> = {};
  for (const op of loaded.ops.values()) {
    const c = op.op.file?.actions?.[0]?.copy;
    const i = c ? /^\/out\/(\d+)\/$/.exec(c.dest ?? "")?.[1] : undefined;
    if (i === undefined) continue;
    const cm = buildkitCacheMap(op)!;
    const rec = records.find((r) => r.digest === rootKey(cm.digests[0]!, 0));
    const links = (rec?.inputs?.[op.op.file!.actions![0]!.secondaryInput ?? 0] ?? []) as { selector?: string; link: number }[];
    const slow = links.filter((l) => !l.selector).map((l) => records[l.link]!.digest);
    if (slow.length !== 1) throw new Error(`vector ${TREE_VECTORS[Number(i)]!.name}: ${slow.length} content records`);
    out[TREE_VECTORS[Number(i)]!.name] = slow[0]!;
  }
  writeFileSync(join(import.meta.dir, "contenthash-vectors.json"), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`${Object.keys(out).length} vectors`);
} finally {
  await peer.cleanup();
  rmSync(work, { recursive: true, force: true });
}

// `--output type=oci,dest=DIR,tar=false`: an OCI image layout directory instead of an archive,
// against buildkitd v0.11.6 from ../shared/peers. buildctl serves DIR as the session's "export"
// content store and tags index.json itself; our daemon fills that store, our client does what
// buildctl does, and a daemonless build writes the layout directly. All four give the same
// index.json entry (the image's name, else "latest", as the tag) and every blob it needs.
// A Dockerfile with one COPY onto scratch, uncompressed, with SOURCE_DATE_EPOCH: the same bytes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { startRegistry, type TestRegistry } from "../../fixtures/registry.ts";
import { BuildHarness } from "../build/harness.ts";
import { buildkitdAvailable, runClient, startPeerAndServe, type PeerAndServe } from "../client/daemons.ts";
import { BUILDCTL } from "../cache-remote/peer-dockerfile.ts";
import { copyProject } from "./helpers.ts";

const run = requireIntegration("OCI layout outputs against BuildKit", { runc: true, busybox: true, tools: ["/usr/bin/docker-registry"] }) && buildkitdAvailable("OCI layout outputs against BuildKit");

let h: BuildHarness;
let registry: TestRegistry;
let daemons: PeerAndServe;
let frontend: string[];

beforeAll(async () => {
  if (!run) return;
  h = new BuildHarness();
  frontend = copyProject((n) => h.temp(n), "FROM scratch\nCOPY a.txt /a.txt\n", ["--opt", "build-arg:SOURCE_DATE_EPOCH=1700000000"]);
  registry = await startRegistry();
  daemons = await startPeerAndServe(h.temp("config"), registry.host);
}, 120_000);
afterAll(async () => {
  await daemons?.stop();
  await registry?.stop();
  h?.cleanup();
});

interface Layout {
  readonly entries: { digest: string; annotations?: Record<string, string> }[];
  /** Every blob the top descriptor reaches is in blobs/sha256. */
  readonly complete: boolean;
}

function readLayout(dir: string): Layout {
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as { manifests: Layout["entries"] };
  const blob = (d: string) => join(dir, "blobs", "sha256", d.replace(/^sha256:/, ""));
  const reach = (d: string): boolean => {
    if (!existsSync(blob(d))) return false;
    const doc = JSON.parse(readFileSync(blob(d), "utf8")) as { manifests?: { digest: string }[]; config?: { digest: string }; layers?: { digest: string }[] };
    const children = [...(doc.manifests ?? []), ...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])];
    return children.every((c) => (doc.manifests ? reach(c.digest) : existsSync(blob(c.digest))));
  };
  return { entries: index.manifests, complete: index.manifests.every((m) => reach(m.digest)) };
}

describe.skipIf(!run)("oci output with tar=false, as BuildKit v0.11.6 writes it", () => {
  for (const named of [false, true]) {
    test(`a layout directory${named ? ", tagged with the image's name" : ", tagged latest"}: BuildKit, our daemon with buildctl, our client, daemonless`, async () => {
      const output = (dir: string) => `type=oci,dest=${dir},tar=false,compression=uncompressed${named ? ",name=example.com/app:v1" : ""}`;
      const dirs = { peer: join(h.temp("out"), "l"), serve: join(h.temp("out"), "l"), client: join(h.temp("out"), "l"), ours: join(h.temp("out"), "l") };
      for (const [who, addr] of [["peer", daemons.peer.addr], ["serve", daemons.serve.addr]] as const) {
        const r = Bun.spawnSync([BUILDCTL, "--addr", addr, "build", "--progress", "plain", "--output", output(dirs[who]), ...frontend], { timeout: 120_000 });
        if (r.exitCode !== 0) console.log(who, r.stderr.toString());
        expect(r.exitCode).toBe(0);
      }
      const client = await runClient(["build", "--addr", daemons.serve.addr, "--progress", "plain", "--output", output(dirs.client), ...frontend]);
      if (client.code !== 0) console.log(client.stderr);
      expect(client.code).toBe(0);
      const ours = await h.build(new Uint8Array(), ["--output", output(dirs.ours), ...frontend]);
      if (ours.code !== 0) console.log(ours.stderr);
      expect(ours.code).toBe(0);
      const theirs = readLayout(dirs.peer);
      expect(theirs.complete).toBe(true);
      expect(theirs.entries).toHaveLength(1);
      expect(theirs.entries[0]!.annotations?.["org.opencontainers.image.ref.name"]).toBe(named ? "example.com/app:v1" : "latest");
      for (const who of ["serve", "client", "ours"] as const) {
        const mine = readLayout(dirs[who]);
        expect(mine.complete).toBe(true);
        expect(mine.entries).toEqual(theirs.entries);
      }
    }, 180_000);
  }
});

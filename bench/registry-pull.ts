// Registry pull throughput: pushes a ~100 MB image of random layers to a local docker-registry
// (with our client), then pulls every blob cold — resolve, stream, verify — to /dev/null and to
// a temp file, one layer at a time and all at once, against raw fetch as the baseline.
// Run: bun bench/registry-pull.ts [--mb 100] [--layers 5] [--runs 3]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { sha256 } from "../src/core/digest.ts";
import type { Digest } from "../src/core/digest.ts";
import { createRegistryClient, MediaType } from "../src/core/registry/index.ts";
import type { Descriptor, RegistryClient } from "../src/core/registry/index.ts";
import { saveBlob, startRegistry } from "../test/fixtures/registry.ts";

const { values } = parseArgs({ options: { mb: { type: "string", default: "100" }, layers: { type: "string", default: "5" }, runs: { type: "string", default: "3" } } });
const TOTAL_MB = Number(values.mb);
const LAYERS = Number(values.layers);
const RUNS = Number(values.runs);
const PLATFORM = { os: "linux", architecture: "amd64" };
const never = new AbortController().signal;

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  return out;
}

async function pushRandomImage(client: RegistryClient, repo: string): Promise<{ bytes: number; ms: number }> {
  const size = Math.floor((TOTAL_MB * 1024 * 1024) / LAYERS);
  const layers: Descriptor[] = [];
  const start = performance.now();
  for (let i = 0; i < LAYERS; i++) {
    const data = randomBytes(size);
    const desc = { mediaType: MediaType.ociLayer, digest: sha256(data), size };
    await client.pushBlob(repo, desc, new Response(data).body as ReadableStream<Uint8Array>);
    layers.push(desc);
  }
  const config = new TextEncoder().encode(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) } }));
  const configDesc = { mediaType: MediaType.ociConfig, digest: sha256(config), size: config.byteLength };
  await client.pushBlob(repo, configDesc, config);
  const manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDesc, layers };
  await client.pushManifest(repo, "latest", MediaType.ociManifest, new TextEncoder().encode(JSON.stringify(manifest)));
  return { bytes: size * LAYERS, ms: performance.now() - start };
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const chunk of stream) n += chunk.byteLength;
  return n;
}

type Sink = (stream: ReadableStream<Uint8Array>, desc: Descriptor) => Promise<number>;

/** A cold pull: a fresh client resolves and fetches every layer into sink. */
async function pull(ref: string, repo: string, sink: Sink, parallel: boolean): Promise<number> {
  const client = createRegistryClient({ dockerConfigDir: "/nonexistent" });
  const image = await client.resolve(ref, PLATFORM, never);
  const one = async (l: Descriptor): Promise<number> => await sink(await client.fetchBlob(repo, l, never), l);
  if (parallel) return (await Promise.all(image.manifest.layers.map(one))).reduce((a, b) => a + b, 0);
  let total = 0;
  for (const l of image.manifest.layers) total += await one(l);
  return total;
}

/** Baseline: plain fetch of each blob, no hashing. */
async function rawPull(host: string, path: string, layers: readonly { digest: Digest }[]): Promise<number> {
  let total = 0;
  for (const l of layers) total += await drain((await fetch(`http://${host}/v2/${path}/blobs/${l.digest}`)).body as ReadableStream<Uint8Array>);
  return total;
}

async function measure(name: string, fn: () => Promise<number>): Promise<void> {
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    const bytes = await fn();
    rates.push(bytes / 1024 / 1024 / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)] ?? 0;
  console.log(`${name.padEnd(44)} median ${median.toFixed(0).padStart(5)} MB/s   best ${(rates.at(-1) ?? 0).toFixed(0).padStart(5)} MB/s`);
}

async function main(): Promise<void> {
  const registry = await startRegistry();
  const work = mkdtempSync(join(tmpdir(), "bk-bench-pull-"));
  try {
    const repo = `${registry.host}/bench/random`;
    const pushed = await pushRandomImage(createRegistryClient({ dockerConfigDir: "/nonexistent" }), repo);
    console.log(`pushed ${(pushed.bytes / 1024 / 1024).toFixed(0)} MB in ${LAYERS} layers: ${((pushed.bytes / 1024 / 1024) / (pushed.ms / 1000)).toFixed(0)} MB/s (includes generating random data and hashing)`);
    const ref = `${repo}:latest`;
    const layers = (await createRegistryClient().resolve(ref, PLATFORM, never)).manifest.layers;
    await measure("raw fetch, no verification (baseline)", () => rawPull(registry.host, "bench/random", layers));
    await measure("pull → /dev/null, verified, sequential", () => pull(ref, repo, drain, false));
    await measure("pull → /dev/null, verified, parallel", () => pull(ref, repo, drain, true));
    const toFile: Sink = async (s, d) => {
      const path = join(work, d.digest.slice(7));
      const n = await saveBlob(s, path);
      rmSync(path);
      return n;
    };
    await measure("pull → temp file, verified, sequential", () => pull(ref, repo, toFile, false));
    await measure("pull → temp file, verified, parallel", () => pull(ref, repo, toFile, true));
  } finally {
    await registry.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();

// Reading exported images back in tests: skopeo, members of an archive, layer contents.
import { readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Runs a tool; throws with its stderr when it fails. */
export function run(argv: string[], opts: { input?: Uint8Array } = {}): Buffer {
  const stdin = opts.input === undefined ? undefined : new Uint8Array(opts.input);
  const p = Bun.spawnSync(argv, { stdin, stdout: "pipe", stderr: "pipe", timeout: 120_000 });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${p.stderr.toString().trim()}`);
  return p.stdout;
}

export function skopeoJson<T = Record<string, unknown>>(...args: string[]): T {
  return JSON.parse(run(["skopeo", ...args]).toString()) as T;
}

/** One member of a tar file. */
export function member(tarFile: string, name: string): Buffer {
  return run(["tar", "-xOf", tarFile, name]);
}

export function memberJson<T = Record<string, unknown>>(tarFile: string, name: string): T {
  return JSON.parse(member(tarFile, name).toString()) as T;
}

/** Member names of a tar file. */
export function members(tarFile: string): string[] {
  return run(["tar", "-tf", tarFile]).toString().trim().split("\n");
}

/** A response key the build printed (`key: value` on stderr). */
export function responseValue(stderr: string, key: string): string | undefined {
  return new RegExp(`^${key.replace(/\./g, "\\.")}: (.*)$`, "m").exec(stderr)?.[1];
}

/** The uncompressed tar of a layer blob (gzip, zstd or none, by magic bytes). */
export function layerTar(blob: Buffer): Buffer {
  // gzip(1) itself: our layers are multi-member gzip streams, which every gunzip must read.
  if (blob[0] === 0x1f && blob[1] === 0x8b) return run(["gzip", "-dc"], { input: blob });
  if (blob.readUInt32LE(0) === 0xfd2fb528) return run(["zstd", "-dc"], { input: blob });
  return blob;
}

/** `path → content` of the regular files of a layer tar, via tar itself. */
export function fileInLayer(blob: Buffer, path: string): string | undefined {
  const tar = layerTar(blob);
  const names = run(["tar", "-tf", "-"], { input: tar }).toString().split("\n");
  if (!names.includes(path)) return undefined;
  return run(["tar", "-xOf", "-", path], { input: tar }).toString();
}

/** The layer blobs of a `skopeo copy … dir:DIR` copy, in manifest order. */
export function dirLayers(dir: string): Buffer[] {
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { layers: { digest: string }[] };
  return manifest.layers.map((l) => readFileSync(join(dir, l.digest.replace(/^sha256:/, ""))));
}

/**
 * A Dockerfile project whose context holds a.txt ("hello\n", dated 2020-09-13, so the layer a
 * COPY of it makes is the same bytes on every builder): the dockerfile.v0 flags for it, then opts.
 */
export function copyProject(temp: (name: string) => string, dockerfile: string, opts: readonly string[]): string[] {
  const context = temp("context");
  writeFileSync(join(context, "a.txt"), "hello\n");
  utimesSync(join(context, "a.txt"), 1600000000, 1600000000);
  const dir = temp("dockerfile");
  writeFileSync(join(dir, "Dockerfile"), dockerfile);
  return ["--frontend", "dockerfile.v0", "--local", `context=${context}`, "--local", `dockerfile=${dir}`, ...opts];
}

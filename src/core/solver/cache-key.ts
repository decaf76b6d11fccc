/**
 * Cache keys: what identifies the work a vertex does, as opposed to its digest, which identifies
 * the bytes that describe it. A key is the SHA-256 of a canonical encoding of the op with its
 * inputs replaced by their inputs' keys, plus any content key. Metadata (names, descriptions,
 * ignore_cache, caps) never enters a key, so equal work in different graphs shares results.
 *
 * Encoding (version 1): a domain tag, then length-prefixed fields: the op's marshalled bytes
 * with every top-level `inputs` field (field 1) removed, the number of inputs, each input's key
 * (or the content key that replaces it), and the op's content key. Everything else in the op
 * (platform, constraints, unknown fields) stays, byte for byte as the client sent it.
 *
 * As in BuildKit, an exec op's proxy settings and the IPs of its extra hosts are not part of
 * its key (a proxy is a route, not content; `--add-host db:IP` is the same build whatever
 * IP db has): such an op is keyed by its re-encoded form without them (protobufjs's generated
 * code, loaded for that only: no other key needs it).
 */
import { fieldSpans } from "../pb/decode.ts";
import type { Digest } from "../digest.ts";
import { BuildkitError } from "../errors.ts";
import type { LoadedOp } from "../llb/definition.ts";

const DOMAIN = "buildkit-ts cache key v1";
const INPUTS_FIELD = 1;

export interface CacheKeyOptions {
  /** Content the op depends on beyond its definition (see OpAdapter.contentKey). */
  readonly contentKey?: string;
  /** Per input, a content key that replaces that input's key (see OpAdapter.inputKey). */
  readonly inputContentKeys?: readonly (string | undefined)[];
}

/** The key of op given the keys of its input edges (see `outputKey`), one per op input in order. */
export async function cacheKey(op: LoadedOp, inputKeys: readonly Digest[], opts: CacheKeyOptions = {}): Promise<Digest> {
  if (inputKeys.length !== op.inputs.length) {
    throw new BuildkitError("Internal", `computing cache key of ${op.digest}: ${inputKeys.length} input keys for ${op.inputs.length} inputs`);
  }
  const h = new KeyHasher();
  h.field("op", withoutInputs(await keyBytes(op)));
  h.field("inputs", String(inputKeys.length));
  inputKeys.forEach((key, i) => {
    const content = opts.inputContentKeys?.[i];
    if (content === undefined) h.field("input", key);
    else h.field("input-content", content);
  });
  if (opts.contentKey !== undefined) h.field("content", opts.contentKey);
  return h.digest();
}

/** The key of one output of a vertex: what its consumers use as their input's key. */
export function outputKey(key: Digest, index: number): Digest {
  const h = new KeyHasher();
  h.field("vertex", key);
  h.field("output", String(index));
  return h.digest();
}

/** The op's bytes as sent, or re-encoded without what does not change an exec's work. */
async function keyBytes(op: LoadedOp): Promise<Uint8Array> {
  const meta = op.op.exec?.meta;
  const hostIPs = meta?.extraHosts?.some((h) => h.IP);
  if (!meta || (!meta.proxy_env && !hostIPs)) return op.bytes;
  const { pb } = await import("../pb/index.ts");
  const normalized = pb.Op.create({
    ...op.op,
    exec: pb.ExecOp.create({
      ...op.op.exec,
      meta: pb.Meta.create({ ...meta, proxy_env: null, extraHosts: (meta.extraHosts ?? []).map((h) => pb.HostIP.create({ Host: h.Host, IP: "" })) }),
    }),
  });
  return pb.Op.encode(normalized).finish();
}

/** The op's bytes with its top-level inputs removed; every other field kept as sent. */
function withoutInputs(bytes: Uint8Array): Uint8Array[] {
  return fieldSpans(bytes)
    .filter((f) => f.field !== INPUTS_FIELD)
    .map((f) => bytes.subarray(f.start, f.end));
}

const encoder = new TextEncoder();

/** SHA-256 over tagged, length-prefixed fields, so no two field sequences encode alike. */
class KeyHasher {
  readonly #parts: Uint8Array[] = [encoder.encode(DOMAIN)];

  field(name: string, value: string | readonly Uint8Array[]): void {
    const parts = typeof value === "string" ? [encoder.encode(value)] : value;
    const length = parts.reduce((n, p) => n + p.length, 0);
    this.#parts.push(encoder.encode(`\0${name}\0${length}\0`), ...parts);
  }

  digest(): Digest {
    // One native hash over the concatenation: cheaper than many small updates.
    return `sha256:${new Bun.CryptoHasher("sha256").update(Buffer.concat(this.#parts)).digest("hex")}` as Digest;
  }
}

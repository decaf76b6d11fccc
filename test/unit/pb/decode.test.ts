// The table-driven decoder (src/core/pb/decode.ts) against the generated protobufjs code it
// stands in for: random messages of every LLB type, encoded by protobufjs, then mutated (bytes
// flipped, cut, duplicated, unknown fields added), decode alike or fail alike.
import { describe, expect, test } from "bun:test";
import { Reader } from "protobufjs/minimal.js";
import { decodeMessage, type FieldSchema } from "../../../src/core/pb/decode.ts";
import { pb } from "../../../src/core/pb/index.ts";
import { OPS_ENUMS, OPS_SCHEMA } from "../../../src/core/pb/ops-schema.ts";

/** A deterministic PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = ["", "a", "/work", "sh -c 'echo ü'", "llb.customname", "__proto__", "x".repeat(300), "日本"];

function scalar(kind: string, rnd: () => number): unknown {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)] as T;
  switch (kind) {
    case "string":
      return pick(STRINGS);
    case "bytes":
      return new Uint8Array(pick([0, 1, 5, 200])).map(() => Math.floor(rnd() * 256));
    case "bool":
      return rnd() < 0.5;
    case "int32":
      return pick([0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 300]);
    case "uint32":
      return pick([0, 1, 2 ** 32 - 1, 128]);
    case "int64":
      return pick([0, 1, -1, 2 ** 40, -(2 ** 40), 2 ** 53 - 1]);
    case "uint64":
      return pick([0, 1, 2 ** 40, 2 ** 53 - 1]);
    case "enum":
      return pick([0, 1, 2]);
  }
  throw new Error(kind);
}

/** A random plain object of type, by the schema (every field sometimes, one oneof member at most... usually). */
function randomObject(type: string, rnd: () => number, depth = 0): Record<string, unknown> {
  const spec = OPS_SCHEMA[type];
  if (!spec) throw new Error(type);
  const out: Record<string, unknown> = {};
  const oneofChosen = new Set<string>();
  for (const f of spec.fields) {
    if (rnd() < 0.35) continue;
    if (f.oneof) {
      if (oneofChosen.has(f.oneof) && rnd() < 0.9) continue;
      oneofChosen.add(f.oneof);
    }
    out[f.name] = randomField(f, rnd, depth);
  }
  return out;
}

function randomField(f: FieldSchema, rnd: () => number, depth: number): unknown {
  const one = (): unknown => (f.kind === "message" ? (depth > 4 ? {} : randomObject(f.type as string, rnd, depth + 1)) : scalar(f.kind, rnd));
  if (f.kind === "map") {
    const entries: [string, unknown][] = [];
    for (let i = Math.floor(rnd() * 3); i > 0; i--) {
      entries.push([STRINGS[Math.floor(rnd() * STRINGS.length)] as string, f.value === "message" ? (depth > 4 ? {} : randomObject(f.type as string, rnd, depth + 1)) : scalar(f.value as string, rnd)]);
    }
    return Object.fromEntries(entries);
  }
  if (f.repeated) return Array.from({ length: Math.floor(rnd() * 4) }, one);
  return one();
}

type Codec = { encode(m: unknown): { finish(): Uint8Array }; fromObject(o: unknown): unknown; decode(r: Reader | Uint8Array): unknown };
const codec = (type: string): Codec => type.split(".").reduce((o: unknown, k) => (o as Record<string, unknown>)[k], pb) as Codec;

/** Everything a consumer can observe of a decoded message: each field (own or default), each oneof, own keys in order, unknown fields. */
function observe(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return value ?? null;
  const msg = value as Record<string, unknown>;
  const spec = OPS_SCHEMA[type];
  if (!spec) throw new Error(type);
  const view = (f: FieldSchema, v: unknown): unknown => {
    if (f.kind === "message" || (f.kind === "map" && f.value === "message")) {
      if (f.repeated) return (v as unknown[]).map((x) => observe(x, f.type as string));
      if (f.kind === "map") return Object.entries(v as object).map(([k, x]) => [k, observe(x, f.type as string)]);
      return observe(v, f.type as string);
    }
    if (f.kind === "map") return Object.entries(v as object);
    if (v instanceof Uint8Array) return ["bytes", [...v]];
    if (Array.isArray(v)) return v.map((x) => (x instanceof Uint8Array ? ["bytes", [...x]] : x));
    return v;
  };
  return {
    fields: spec.fields.map((f) => [f.name, Object.hasOwn(msg, f.name), view(f, msg[f.name])]),
    oneofs: Object.keys(spec.oneofs ?? {}).map((o) => [o, msg[o]]),
    keys: Object.keys(msg),
    unknowns: ((msg.$unknowns as Uint8Array[] | undefined) ?? []).map((u) => [...u]),
    enumerableUnknowns: Object.keys(msg).includes("$unknowns"),
  };
}

function both(type: string, bytes: Uint8Array, keepUnknown: boolean): [unknown, unknown] {
  const theirs = (() => {
    try {
      const reader = Reader.create(bytes);
      reader.discardUnknown = !keepUnknown;
      return observe(codec(type).decode(reader), type);
    } catch (err) {
      return `throws: ${(err as Error).message}`;
    }
  })();
  const ours = (() => {
    try {
      return observe(decodeMessage(OPS_SCHEMA, type, bytes, { keepUnknown }), type);
    } catch (err) {
      return `throws: ${(err as Error).message}`;
    }
  })();
  return [ours, theirs];
}

function mutations(bytes: Uint8Array, rnd: () => number): Uint8Array[] {
  const out: Uint8Array[] = [bytes, Uint8Array.from([...bytes, ...bytes])];
  for (let i = 0; i < 6 && bytes.length > 0; i++) {
    const flipped = bytes.slice();
    flipped[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
    out.push(flipped, bytes.slice(0, Math.floor(rnd() * bytes.length)));
  }
  // Unknown fields of every wire type, and a known field number with the wrong wire type.
  out.push(Uint8Array.from([...bytes, 0xf8, 0x07, 0x01]), Uint8Array.from([...bytes, 0xfa, 0x07, 0x02, 0x61, 0x62]), Uint8Array.from([...bytes, 0xfd, 0x07, 1, 2, 3, 4]));
  out.push(Uint8Array.from([...bytes, 0xf9, 0x07, 1, 2, 3, 4, 5, 6, 7, 8]), Uint8Array.from([...bytes, 0xfb, 0x07, 0x08, 0x01, 0xfc, 0x07]), Uint8Array.from([...bytes, 0x08, 0x01]));
  out.push(Uint8Array.from([...bytes, 0x0d, 1, 2, 3, 4]), Uint8Array.from([0x00, ...bytes]));
  return out;
}

describe("decodeMessage reads what protobufjs's generated code reads", () => {
  for (const type of Object.keys(OPS_SCHEMA)) {
    test(type, () => {
      const rnd = random(type.length * 7919 + type.charCodeAt(0));
      for (let i = 0; i < 40; i++) {
        const c = codec(type);
        const bytes = c.encode(c.fromObject(randomObject(type, rnd))).finish();
        for (const m of mutations(bytes, rnd)) {
          for (const keep of [false, true]) {
            const [ours, theirs] = both(type, m, keep);
            expect([type, [...m], keep, ours]).toEqual([type, [...m], keep, theirs]);
          }
        }
      }
    });
  }
});

test("the enums match the generated code's", () => {
  for (const [name, values] of Object.entries(OPS_ENUMS)) {
    expect(values).toEqual((pb as unknown as Record<string, unknown>)[name] as typeof values);
  }
});

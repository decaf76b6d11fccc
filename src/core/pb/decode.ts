/**
 * A protobuf decoder driven by a schema table (ops-schema.ts, generated from ops.proto), for
 * reading Definitions without loading protobufjs: its runtime and the generated pb/ops.js cost
 * several milliseconds of every build's start-up, and a fully cached build needs nothing else
 * of them. Messages decode exactly as the generated static code decodes them (test/unit/pb
 * compares the two on generated and mutated definitions):
 * - a message is an object whose prototype holds the defaults ("" , 0, false, null, a frozen
 *   empty array or object) and a getter per oneof that names the member set;
 * - proto3 scalars are own properties only when not zero; a oneof member is set even when zero,
 *   and setting one deletes the others; a message field seen twice is merged;
 * - repeated numbers are read packed or not; map entries default their key and value;
 * - int64 and uint64 are numbers; strings must be valid UTF-8;
 * - a field with an unexpected wire type is unknown: skipped, and with keepUnknown kept as raw
 *   bytes in a non-enumerable `$unknowns` array.
 */

export type ScalarKind = "string" | "bytes" | "bool" | "int32" | "int64" | "uint32" | "uint64" | "enum";

export interface FieldSchema {
  readonly id: number;
  readonly name: string;
  /** A scalar kind, "message" (type names it) or "map" (string keys; value and type name its values). */
  readonly kind: ScalarKind | "message" | "map";
  readonly type?: string;
  readonly value?: ScalarKind | "message";
  readonly repeated?: true;
  readonly oneof?: string;
}

export interface MessageSchema {
  readonly fields: readonly FieldSchema[];
  /** Each oneof's members, in declaration order. */
  readonly oneofs?: Readonly<Record<string, readonly string[]>>;
}

export type Schema = Readonly<Record<string, MessageSchema>>;

export interface DecodeOptions {
  /** Keep unknown fields as raw bytes in `$unknowns` (protobufjs: reader.discardUnknown = false). */
  readonly keepUnknown?: boolean;
}

/** protobufjs's recursion limit for nested messages and groups. */
const RECURSION_LIMIT = 100;

const EMPTY_ARRAY: readonly never[] = Object.freeze([]);
const EMPTY_OBJECT: Readonly<Record<string, never>> = Object.freeze({});
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const WIRE: Record<ScalarKind | "message" | "map", number> = { string: 2, bytes: 2, bool: 0, int32: 0, int64: 0, uint32: 0, uint64: 0, enum: 0, message: 2, map: 2 };

class Reader {
  pos = 0;
  len: number;
  constructor(readonly buf: Uint8Array) {
    this.len = buf.length;
  }

  outOfRange(n = 1): RangeError {
    return new RangeError(`index out of range: ${this.pos} + ${n} > ${this.len}`);
  }

  /** A varint as [low, high] 32-bit halves. */
  varint(): [number, number] {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.len) throw this.outOfRange();
      const b = this.buf[this.pos++] as number;
      if (shift < 28) lo |= (b & 127) << shift;
      else if (shift === 28) {
        lo |= (b & 15) << 28;
        hi |= (b & 127) >> 4;
      } else hi |= (b & 127) << (shift - 32);
      if (b < 128) return [lo >>> 0, hi >>> 0];
      shift += 7;
    }
    throw new Error("invalid varint encoding");
  }

  uint32(): number {
    const b = this.buf[this.pos];
    if (b !== undefined && b < 128 && this.pos < this.len) {
      this.pos++;
      return b;
    }
    return this.varint()[0];
  }

  /** Up to five bytes, the last one holding only the top 4 bits (protobufjs: "invalid tag encoding"). */
  tag(): number {
    const b = this.buf[this.pos];
    if (b !== undefined && b < 128 && this.pos < this.len) {
      this.pos++;
      return b;
    }
    return this.varint32("tag", (last) => last < 128 && (last & 112) === 0);
  }

  /** A length: up to five bytes, the last one at most 7 (protobufjs: "invalid length encoding"). */
  size(): number {
    const b = this.buf[this.pos];
    if (b !== undefined && b < 128 && this.pos < this.len) {
      this.pos++;
      return b;
    }
    return this.varint32("length", (last) => last <= 7);
  }

  varint32(what: string, lastOk: (b: number) => boolean): number {
    let value = 0;
    if (this.len - this.pos < 5) {
      // Near the end: at most four bytes.
      for (let i = 0; i < 4; i++) {
        if (this.pos >= this.len) throw this.outOfRange();
        const b = this.buf[this.pos++] as number;
        value = (value | ((b & 127) << (i * 7))) >>> 0;
        if (b < 128) return value;
      }
      throw this.outOfRange();
    }
    for (let i = 0; i < 4; i++) {
      const b = this.buf[this.pos++] as number;
      value = (value | ((b & 127) << (i * 7))) >>> 0;
      if (b < 128) return value;
    }
    const b = this.buf[this.pos++] as number;
    if (!lastOk(b)) throw new Error(`invalid ${what} encoding`);
    return (value | (b << 28)) >>> 0;
  }

  /** protobufjs's bool: true when any of up to ten bytes has a bit besides the continuation bit. */
  bool(): boolean {
    let value = false;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.len) throw this.outOfRange();
      const b = this.buf[this.pos++] as number;
      if (b & 127) value = true;
      if (b < 128) return value;
    }
    throw new Error("invalid varint encoding");
  }

  /** Skips a varint of any length. */
  skipVarint(): void {
    do {
      if (this.pos >= this.len) throw this.outOfRange();
    } while ((this.buf[this.pos++] as number) & 128);
  }

  int64(unsigned: boolean): number {
    let [lo, hi] = this.varint();
    if (!unsigned && hi >>> 31) {
      lo = (~lo + 1) >>> 0;
      hi = ~hi >>> 0;
      if (!lo) hi = (hi + 1) >>> 0;
      return -(lo + hi * 4294967296);
    }
    return lo + hi * 4294967296;
  }

  /** A length prefix and the end of what it covers, checked against the current limit. */
  sized(): number {
    const n = this.size();
    const end = this.pos + n;
    if (end > this.len) throw this.outOfRange(n);
    return end;
  }

  /** The end of a nested message or map entry, as the generated code checks it (a bare message). */
  messageEnd(): number {
    const end = this.size() + this.pos;
    if (end > this.len) throw new RangeError("index out of range");
    return end;
  }

  bytes(): Uint8Array {
    const end = this.sized();
    const start = this.pos;
    this.pos = end;
    return this.buf.subarray(start, end);
  }

  string(): string {
    const end = this.sized();
    const start = this.pos;
    this.pos = end;
    return utf8.decode(this.buf.subarray(start, end));
  }

  skip(n: number): void {
    if (this.pos + n > this.len) throw this.outOfRange(n);
    this.pos += n;
  }

  skipType(wireType: number, depth: number, field: number): void {
    if (depth > RECURSION_LIMIT) throw new Error("max depth exceeded");
    if (field === 0) throw new Error("illegal tag: field number 0");
    switch (wireType) {
      case 0:
        this.skipVarint();
        return;
      case 1:
        this.skip(8);
        return;
      case 2:
        this.pos = this.sized();
        return;
      case 3:
        for (;;) {
          const tag = this.tag();
          if (tag >>> 3 === 0) throw new Error("illegal tag: field number 0");
          if ((tag & 7) === 4) {
            if (tag >>> 3 !== field) throw new Error("invalid end group tag");
            return;
          }
          this.skipType(tag & 7, depth + 1, tag >>> 3);
        }
      case 5:
        this.skip(4);
        return;
      default:
        throw new Error(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }
}

function readScalar(r: Reader, kind: ScalarKind): string | number | boolean | Uint8Array {
  switch (kind) {
    case "string":
      return r.string();
    case "bytes":
      return r.bytes();
    case "bool":
      return r.bool();
    case "int32":
    case "enum":
      return r.uint32() | 0;
    case "uint32":
      return r.uint32();
    case "int64":
      return r.int64(false);
    case "uint64":
      return r.int64(true);
  }
}

const isZero = (v: unknown): boolean => v === "" || v === 0 || v === false || (v instanceof Uint8Array && v.length === 0);

/** Builds and caches each message type's prototype (defaults and oneof getters). */
class Prototypes {
  readonly #protos = new Map<string, object>();
  constructor(readonly schema: Schema) {}

  of(type: string): object {
    let proto = this.#protos.get(type);
    if (proto) return proto;
    const spec = this.spec(type);
    proto = {};
    for (const f of spec.fields) (proto as Record<string, unknown>)[f.name] = defaultOf(f);
    for (const [name, members] of Object.entries(spec.oneofs ?? {})) {
      Object.defineProperty(proto, name, {
        get(this: Record<string, unknown>) {
          for (let i = members.length - 1; i >= 0; i--) {
            const m = members[i] as string;
            if (this[m] !== undefined && this[m] !== null) return m;
          }
          return undefined;
        },
        set(this: Record<string, unknown>, value: string) {
          for (const m of members) if (m !== value) delete this[m];
        },
      });
    }
    this.#protos.set(type, proto);
    return proto;
  }

  spec(type: string): MessageSchema {
    const spec = this.schema[type];
    if (!spec) throw new Error(`decoding: no message type ${type} in the schema`);
    return spec;
  }
}

function defaultOf(f: FieldSchema): unknown {
  if (f.repeated) return EMPTY_ARRAY;
  if (f.oneof !== undefined) return null; // a oneof member, scalar or not, is null until set
  switch (f.kind) {
    case "map":
      return EMPTY_OBJECT;
    case "message":
      return null;
    case "string":
      return "";
    case "bool":
      return false;
    case "bytes":
      return Buffer.alloc(0);
    default:
      return 0;
  }
}

class Decoder {
  readonly #fieldMaps = new Map<string, Map<number, FieldSchema>>();
  constructor(
    readonly protos: Prototypes,
    readonly keepUnknown: boolean,
  ) {}

  fields(type: string): Map<number, FieldSchema> {
    let m = this.#fieldMaps.get(type);
    if (!m) this.#fieldMaps.set(type, (m = new Map(this.protos.spec(type).fields.map((f) => [f.id, f]))));
    return m;
  }

  /** A new message: as protobufjs's constructors, own empty arrays and objects for repeated and map fields, in declaration order. */
  create(type: string): Record<string, unknown> {
    const msg = Object.create(this.protos.of(type)) as Record<string, unknown>;
    for (const f of this.collections(type)) msg[f.name] = f.repeated ? [] : {};
    return msg;
  }

  readonly #collections = new Map<string, readonly FieldSchema[]>();
  /** A type's repeated and map fields, in declaration order. */
  collections(type: string): readonly FieldSchema[] {
    let c = this.#collections.get(type);
    if (!c) this.#collections.set(type, (c = this.protos.spec(type).fields.filter((f) => f.repeated || f.kind === "map")));
    return c;
  }

  /** Decodes a message of type from r up to end (merging into target when given). */
  message(r: Reader, type: string, end: number, depth: number, target?: Record<string, unknown> | null): Record<string, unknown> {
    if (depth > RECURSION_LIMIT) throw new Error("max depth exceeded");
    const outer = r.len;
    r.len = end;
    const msg = target ?? this.create(type);
    const fields = this.fields(type);
    while (r.pos < end) {
      const start = r.pos;
      const tag = r.tag();
      const wireType = tag & 7;
      const f = fields.get(tag >>> 3);
      if (f && this.field(r, msg, f, wireType, depth, end)) continue;
      r.skipType(wireType, depth, tag >>> 3);
      if (this.keepUnknown) {
        if (!Object.hasOwn(msg, "$unknowns")) Object.defineProperty(msg, "$unknowns", { enumerable: false, configurable: true, writable: true, value: undefined });
        ((msg.$unknowns as Uint8Array[] | undefined) ?? (msg.$unknowns = [])).push(r.buf.subarray(start, r.pos));
      }
    }
    if (r.pos !== end) throw new RangeError("index out of range");
    r.len = outer;
    return msg;
  }

  /** Reads one occurrence of field f into msg; false when its wire type is not f's (then it is unknown). */
  field(r: Reader, msg: Record<string, unknown>, f: FieldSchema, wireType: number, depth: number, msgEnd: number): boolean {
    if (f.kind === "map") {
      if (wireType !== 2) return false;
      this.mapEntry(r, msg, f, depth, msgEnd);
      return true;
    }
    if (f.repeated) {
      const packed = f.kind !== "string" && f.kind !== "bytes" && f.kind !== "message" && wireType === 2;
      if (!packed && wireType !== WIRE[f.kind]) return false;
      let list = msg[f.name] as unknown[];
      if (!(Object.hasOwn(msg, f.name) && list.length)) msg[f.name] = list = [];
      if (packed) {
        const end = r.sized();
        const outer = r.len;
        r.len = end;
        while (r.pos < end) list.push(readScalar(r, f.kind as ScalarKind));
        r.len = outer;
      } else if (f.kind === "message") {
        list.push(this.message(r, f.type as string, r.messageEnd(), depth + 1));
      } else list.push(readScalar(r, f.kind as ScalarKind));
      return true;
    }
    if (wireType !== WIRE[f.kind]) return false;
    if (f.kind === "message") {
      const existing = Object.hasOwn(msg, f.name) ? (msg[f.name] as Record<string, unknown> | null) : null;
      msg[f.name] = this.message(r, f.type as string, r.messageEnd(), depth + 1, existing);
    } else {
      const start = r.pos;
      const value = readScalar(r, f.kind);
      if (f.oneof === undefined && isZero(value)) delete msg[f.name];
      else msg[f.name] = value;
      if ((f.kind === "int64" || f.kind === "uint64") && !Number.isSafeInteger(value)) {
        keepExact(msg, f.name, exactVarint(r.buf, start, f.kind === "uint64"));
      }
    }
    if (f.oneof !== undefined) msg[f.oneof] = f.name;
    return true;
  }

  mapEntry(r: Reader, msg: Record<string, unknown>, f: FieldSchema, depth: number, msgEnd: number): void {
    if (msg[f.name] === EMPTY_OBJECT) msg[f.name] = {};
    const end = r.messageEnd();
    r.len = end;
    let key = "";
    let value: unknown = f.value === "message" ? null : defaultOf({ id: 0, name: "", kind: f.value as ScalarKind });
    while (r.pos < end) {
      const tag = r.tag();
      const wireType = tag & 7;
      const id = tag >>> 3;
      if (id === 1 && wireType === 2) {
        key = r.string();
        continue;
      }
      if (id === 2 && f.value === "message" && wireType === 2) {
        value = this.message(r, f.type as string, r.messageEnd(), depth + 1, value as Record<string, unknown> | null);
        continue;
      }
      if (id === 2 && f.value !== "message" && wireType === WIRE[f.value as ScalarKind]) {
        value = readScalar(r, f.value as ScalarKind);
        continue;
      }
      r.skipType(wireType, depth, id);
    }
    if (r.pos !== end) throw new RangeError("index out of range");
    r.len = msgEnd;
    const map = msg[f.name] as Record<string, unknown>;
    if (key === "__proto__") Object.defineProperty(map, key, { enumerable: true, configurable: true, writable: true, value: undefined });
    map[key] = value ?? this.create(f.type as string);
  }
}

const EXACT = "$int64";

/** The varint at pos as an exact 64-bit integer (two's complement unless unsigned). */
function exactVarint(buf: Uint8Array, pos: number, unsigned: boolean): bigint {
  let v = 0n;
  for (let shift = 0n; pos < buf.length && shift < 70n; shift += 7n) {
    const b = buf[pos++] as number;
    v |= BigInt(b & 127) << shift;
    if (b < 128) break;
  }
  return unsigned ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v);
}

/** Records an int64 field's exact value beside its (rounded) number, in a non-enumerable `$int64`. */
function keepExact(msg: Record<string, unknown>, name: string, value: bigint): void {
  if (!Object.hasOwn(msg, EXACT)) Object.defineProperty(msg, EXACT, { enumerable: false, configurable: true, writable: true, value: {} });
  (msg[EXACT] as Record<string, bigint>)[name] = value;
}

/**
 * An int64 field's exact value: int64 fields decode as numbers, which hold integers exactly only
 * up to 2^53; nanosecond timestamps (~1.7e18) are past that, so for a value that was rounded,
 * the decoder keeps the exact one aside.
 */
export function exactInt64(msg: object, name: string): bigint {
  const exact = (msg as Record<string, unknown>)[EXACT] as Record<string, bigint> | undefined;
  const kept = exact?.[name];
  if (kept !== undefined) return kept;
  const value = (msg as Record<string, unknown>)[name];
  return typeof value === "number" ? BigInt(Math.trunc(value)) : typeof value === "bigint" ? value : 0n;
}

/** Gives `to` (a copy of `from`, e.g. made by a generated constructor) from's exact int64 values; returns `to`. */
export function withExactInt64<T extends object>(to: T, from: object): T {
  const exact = (from as Record<string, unknown>)[EXACT] as Record<string, bigint> | undefined;
  if (exact !== undefined) for (const [name, value] of Object.entries(exact)) keepExact(to as Record<string, unknown>, name, value);
  return to;
}

/** Decodes bytes as a message of type (a name in schema). Throws on malformed input. */
export function decodeMessage<T>(schema: Schema, type: string, bytes: Uint8Array, opts: DecodeOptions = {}): T {
  return decoderFor(schema, opts.keepUnknown === true).message(new Reader(bytes), type, bytes.length, 0) as T;
}

/** One decoder per schema and unknown-field mode: prototypes and field tables are made once. */
const decoders = new WeakMap<Schema, [Decoder, Decoder]>();
function decoderFor(schema: Schema, keepUnknown: boolean): Decoder {
  let pair = decoders.get(schema);
  if (!pair) {
    const protos = new Prototypes(schema);
    decoders.set(schema, (pair = [new Decoder(protos, false), new Decoder(protos, true)]));
  }
  return pair[keepUnknown ? 1 : 0];
}

/** A message's top-level fields as they stand in bytes: each field number with its byte span (tag included). */
export function fieldSpans(bytes: Uint8Array): { readonly field: number; readonly start: number; readonly end: number }[] {
  const r = new Reader(bytes);
  const spans: { field: number; start: number; end: number }[] = [];
  while (r.pos < r.len) {
    const start = r.pos;
    const tag = r.tag();
    r.skipType(tag & 7, 0, tag >>> 3);
    spans.push({ field: tag >>> 3, start, end: r.pos });
  }
  return spans;
}

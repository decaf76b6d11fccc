import { describe, expect, test } from "bun:test";
import { pb } from "../../../src/core/pb/index.ts";
import { sha256 } from "../../../src/core/digest.ts";
import type { Digest } from "../../../src/core/digest.ts";
import { BuildkitError } from "../../../src/core/errors.ts";
import { int64, loadDefinition, topologicalOrder } from "../../../src/core/llb/definition.ts";
import { vector, vectorNames } from "./helpers.ts";

const names = vectorNames();

const enc = (op: pb.Op.$Properties): Uint8Array => pb.Op.encode(op).finish();
const definition = (ops: Uint8Array[], metadata: Record<string, pb.OpMetadata.$Properties> = {}): Uint8Array =>
  pb.Definition.encode({ def: ops, metadata }).finish();
const terminal = (bytes: Uint8Array, index = 0): Uint8Array => enc({ inputs: [{ digest: sha256(bytes), index }] });
const input = (bytes: Uint8Array, index = 0): pb.Input.$Properties => ({ digest: sha256(bytes), index });

const image = enc({ source: { identifier: "docker-image://docker.io/library/busybox:latest" } });
const other = enc({ source: { identifier: "docker-image://docker.io/library/alpine:latest" } });
const execOf = (exec: pb.ExecOp.$Properties, inputs = [input(image)]): Uint8Array => enc({ inputs, exec });
const fileOf = (actions: pb.FileAction.$Properties[], inputs = [input(image)]): Uint8Array => enc({ inputs, file: { actions } });
const mkfile = { mkfile: { path: "/x", mode: 0o644 } };

/** Loads ops (a terminal pointing at the last one is added) and returns the error message. */
function failure(ops: Uint8Array[]): string {
  const last = ops.at(-1) as Uint8Array;
  return messageOf(() => loadDefinition(definition([...ops, terminal(last)])));
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BuildkitError);
    expect((err as BuildkitError).code).toBe("InvalidArgument");
    return (err as BuildkitError).message;
  }
  throw new Error("expected an error");
}

describe("vectors", () => {
  test.each(names)("%s loads", (name) => {
    const { bytes, json } = vector(name);
    const def = loadDefinition(bytes);
    expect([...def.ops.keys()]).toEqual(json.ops.map((o) => o.digest) as Digest[]);
    for (const op of def.ops.values()) {
      expect(op.digest).toBe(sha256(op.bytes));
      expect(op.metadata === undefined).toBe(json.metadata[op.digest] === undefined);
    }
    const last = json.ops.at(-1);
    expect(def.terminal?.digest).toBe(last?.digest as Digest);
    expect(def.terminal?.outputs).toBe(0);
    expect(def.result).toEqual({ digest: def.terminal?.op.inputs[0]?.digest as Digest, index: int64(def.terminal?.op.inputs[0]?.index) });
    // Topological: every op after its inputs, every op once.
    expect(new Set(def.order).size).toBe(def.ops.size);
    const seen = new Set<string>();
    for (const d of def.order) {
      for (const i of def.ops.get(d)?.op.inputs ?? []) expect(seen.has(i.digest ?? "")).toBe(true);
      seen.add(d);
    }
  });

  test("outputs per op", () => {
    const def = loadDefinition(vector("15-multi-output").bytes);
    expect([...def.ops.values()].map((o) => o.outputs)).toEqual([1, 3, 1, 0]);
    expect(def.result?.index).toBe(0);
    expect(loadDefinition(vector("05-env-dir-user").bytes).result?.index).toBe(1);
  });

  test("a truncated vector", () => {
    const { bytes } = vector("15-multi-output");
    expect(messageOf(() => loadDefinition(bytes.subarray(0, 100)))).toBe(
      "invalid definition: cannot decode: index out of range: 74 + 187 > 100",
    );
  });
});

describe("well-formed edge cases", () => {
  test("an empty definition", () => {
    const def = loadDefinition(new Uint8Array());
    expect(def.ops.size).toBe(0);
    expect(def.terminal).toBeUndefined();
    expect(def.result).toBeUndefined();
    expect(def.order).toEqual([]);
  });

  test("duplicate ops are kept once, in first position", () => {
    const def = loadDefinition(definition([image, image, terminal(image)]));
    expect([...def.ops.keys()]).toEqual([sha256(image), sha256(terminal(image))]);
  });

  test("metadata for digests outside the definition is ignored", () => {
    const def = loadDefinition(definition([image, terminal(image)], { [sha256(other)]: { ignore_cache: true }, junk: { ignore_cache: true } }));
    expect(def.ops.get(sha256(image))?.metadata).toBeUndefined();
    const withMeta = loadDefinition(definition([image, terminal(image)], { [sha256(image)]: { caps: { "source.image": true } } }));
    expect(withMeta.ops.get(sha256(image))?.metadata?.caps).toEqual({ "source.image": true });
  });

  test("ops need not be listed inputs first", () => {
    const exec = execOf({ meta: { args: ["true"] }, mounts: [{ input: 0, dest: "/", output: 0 }] });
    const def = loadDefinition(definition([exec, image, terminal(exec)]));
    expect(def.order).toEqual([sha256(image), sha256(exec), sha256(terminal(exec))]);
  });

  test("file actions may use earlier actions; diff may use scratch", () => {
    const file = fileOf([{ input: -1, secondaryInput: -1, output: -1, ...mkfile }, { input: 1, secondaryInput: 0, output: 0, ...mkfile }]);
    expect(loadDefinition(definition([image, file, terminal(file)])).ops.get(sha256(file))?.outputs).toBe(1);
    const diff = enc({ inputs: [input(image)], diff: { lower: { input: -1 }, upper: { input: 0 } } });
    expect(loadDefinition(definition([image, diff, terminal(diff)])).result?.digest).toBe(sha256(diff));
  });

  test("int64 reads numbers, Longs and unset fields", () => {
    expect(int64(pb.Mount.decode(pb.Mount.encode({ input: -1 }).finish()).input)).toBe(-1);
    expect(int64(7)).toBe(7);
    expect(int64(undefined)).toBe(0);
  });

  test("garbage never escapes as another error type", () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256;
    for (let n = 0; n < 300; n++) {
      const bytes = Uint8Array.from({ length: 1 + (n % 64) }, rand);
      try {
        loadDefinition(bytes);
      } catch (err) {
        expect(err).toBeInstanceOf(BuildkitError);
        expect((err as BuildkitError).message).toStartWith("invalid definition: ");
      }
    }
  });
});

describe("malformed definitions", () => {
  // Errors name an op by its kind and a digest prefix.
  const d = (bytes: Uint8Array) => sha256(bytes).slice(0, 19);

  test("garbage bytes", () => {
    expect(messageOf(() => loadDefinition(Uint8Array.of(0xff, 0xff, 0xff)))).toBe(
      "invalid definition: cannot decode: index out of range: 3 + 1 > 3",
    );
  });

  test("an op that does not decode", () => {
    expect(messageOf(() => loadDefinition(definition([image, Uint8Array.of(0x0a, 0x05, 0x01)])))).toBe(
      "invalid definition: op 1: cannot decode: index out of range",
    );
  });

  test("an op without a type that is not last", () => {
    const empty = enc({});
    expect(failure([empty])).toBe(`invalid definition: op ${d(empty)} has an unknown op type`);
  });

  test("an op type from a field number we do not know", () => {
    const future = Uint8Array.of(0x42, 0x00); // field 8, length-delimited, empty
    expect(failure([future])).toBe(`invalid definition: op ${d(future)} has an unknown op type`);
    const oddTerminal = Uint8Array.of(...terminal(image), 0x42, 0x00);
    expect(messageOf(() => loadDefinition(definition([image, oddTerminal])))).toBe(
      `invalid definition: op ${d(oddTerminal)} has an unknown op type`,
    );
  });

  test("an input no op defines", () => {
    const exec = execOf({ meta: { args: ["true"] }, mounts: [{ input: 0, dest: "/", output: 0 }] });
    expect(failure([exec])).toBe(`invalid definition: exec op ${d(exec)} refers to ${sha256(image)} which the definition does not define`);
    expect(messageOf(() => loadDefinition(definition([terminal(image)])))).toBe(
      `invalid definition: terminal op ${d(terminal(image))} refers to ${sha256(image)} which the definition does not define`,
    );
  });

  test("a cycle", () => {
    const [a, b, c] = ["a", "b", "c"].map((s) => sha256(s)) as [Digest, Digest, Digest];
    expect(topologicalOrder(new Map([[b, [a]], [a, []]]))).toEqual([a, b]);
    expect(messageOf(() => topologicalOrder(new Map([[a, [b]], [b, [c]], [c, [a]]])))).toBe(`invalid definition: cycle through ${a}`);
    expect(messageOf(() => topologicalOrder(new Map([[a, [a]]])))).toBe(`invalid definition: cycle through ${a}`);
  });

  test("an output index out of range", () => {
    const merge = enc({ inputs: [input(image, 1)], merge: { inputs: [{ input: 0 }] } });
    expect(failure([image, merge])).toBe(`invalid definition: merge op ${d(merge)} uses output 1 of ${d(image)} which has 1 outputs`);
    const negative = enc({ inputs: [input(image, -1)], merge: { inputs: [{ input: 0 }] } });
    expect(failure([image, negative])).toBe(`invalid definition: merge op ${d(negative)} uses output -1 of ${d(image)} which has 1 outputs`);
    const exec = execOf({ meta: { args: ["true"] }, mounts: [{ input: 0, dest: "/", output: 0 }, { input: -1, dest: "/o", output: 1 }, { input: -1, dest: "/t", output: -1 }] });
    const after = enc({ inputs: [input(exec, 2)], merge: { inputs: [{ input: 0 }] } });
    expect(failure([image, exec, after])).toBe(`invalid definition: merge op ${d(after)} uses output 2 of ${d(exec)} which has 2 outputs`);
    expect(messageOf(() => loadDefinition(definition([image, terminal(image, 3)])))).toBe(
      `invalid definition: terminal op ${d(terminal(image, 3))} uses output 3 of ${d(image)} which has 1 outputs`,
    );
  });

  test("a malformed terminal op", () => {
    const two = enc({ inputs: [input(image), input(other)] });
    expect(messageOf(() => loadDefinition(definition([image, other, two])))).toBe(
      `invalid definition: terminal op ${d(two)} must have exactly one input and no op type`,
    );
    expect(messageOf(() => loadDefinition(definition([image])))).toBe(
      `invalid definition: terminal op ${d(image)} must have exactly one input and no op type`,
    );
    const none = enc({});
    expect(messageOf(() => loadDefinition(definition([none])))).toBe(
      `invalid definition: terminal op ${d(none)} must have exactly one input and no op type`,
    );
  });

  test("exec op checks", () => {
    const noArgs = execOf({ meta: { cwd: "/" }, mounts: [{ input: 0, dest: "/", output: 0 }] });
    expect(failure([image, noArgs])).toBe(`invalid definition: exec op ${d(noArgs)} has no args`);
    const noMeta = execOf({ mounts: [{ input: 0, dest: "/", output: 0 }] });
    expect(failure([image, noMeta])).toBe(`invalid definition: exec op ${d(noMeta)} has no args`);
    const badMount = execOf({ meta: { args: ["true"] }, mounts: [{ input: 0, dest: "/", output: 0 }, { input: 1, dest: "/m", output: -1 }] });
    expect(failure([image, badMount])).toBe(`invalid definition: exec op ${d(badMount)} mount 1 input 1 is out of range [-1, 0]`);
    const low = execOf({ meta: { args: ["true"] }, mounts: [{ input: -2, dest: "/", output: 0 }] });
    expect(failure([image, low])).toBe(`invalid definition: exec op ${d(low)} mount 0 input -2 is out of range [-1, 0]`);
  });

  test("file op checks", () => {
    const ahead = fileOf([{ input: 0, secondaryInput: -1, output: -1, ...mkfile }, { input: 2, secondaryInput: -1, output: 0, ...mkfile }]);
    expect(failure([image, ahead])).toBe(`invalid definition: file op ${d(ahead)} action 1 input 2 is out of range [-1, 1]`);
    const secondary = fileOf([{ input: 0, secondaryInput: 1, output: 0, copy: { src: "/a", dest: "/b" } }]);
    expect(failure([image, secondary])).toBe(`invalid definition: file op ${d(secondary)} action 0 secondaryInput 1 is out of range [-1, 0]`);
  });

  test("merge and diff checks", () => {
    const merge = enc({ inputs: [input(image), input(other)], merge: { inputs: [{ input: 0 }, { input: 2 }] } });
    expect(failure([image, other, merge])).toBe(`invalid definition: merge op ${d(merge)} input 1 index 2 is out of range [0, 1]`);
    const scratchMerge = enc({ inputs: [input(image)], merge: { inputs: [{ input: -1 }] } });
    expect(failure([image, scratchMerge])).toBe(`invalid definition: merge op ${d(scratchMerge)} input 0 index -1 is out of range [0, 0]`);
    const upper = enc({ inputs: [input(image)], diff: { lower: { input: 0 }, upper: { input: 1 } } });
    expect(failure([image, upper])).toBe(`invalid definition: diff op ${d(upper)} upper input 1 is out of range [-1, 0]`);
    const lower = enc({ inputs: [input(image)], diff: { lower: { input: 3 }, upper: { input: 0 } } });
    expect(failure([image, lower])).toBe(`invalid definition: diff op ${d(lower)} lower input 3 is out of range [-1, 0]`);
  });
});

describe("hostile indexes and paths", () => {
  const d = (bytes: Uint8Array) => sha256(bytes).slice(0, 19);
  const HUGE = 2147483647;
  const root = { input: 0, dest: "/", output: 0 };

  test("exec mount outputs: huge, out of range, duplicate", () => {
    const huge = execOf({ meta: { args: ["true"] }, mounts: [{ ...root, output: HUGE }] });
    // (no array of HUGE outputs is made on the way: that would run out of memory, not answer)
    expect(failure([image, huge])).toBe(`invalid definition: exec op ${d(huge)} mount 0 output ${HUGE} is out of range [-1, 0]`);
    const gap = execOf({ meta: { args: ["true"] }, mounts: [root, { input: -1, dest: "/o", output: 2 }] });
    expect(failure([image, gap])).toBe(`invalid definition: exec op ${d(gap)} mount 1 output 2 is out of range [-1, 1]`);
    const dup = execOf({ meta: { args: ["true"] }, mounts: [root, { input: -1, dest: "/o", output: 0 }] });
    expect(failure([image, dup])).toBe(`invalid definition: exec op ${d(dup)} mount 1 output 0 is also the output of mount 0`);
    const low = execOf({ meta: { args: ["true"] }, mounts: [root, { input: -1, dest: "/o", output: -5 }] });
    expect(failure([image, low])).toBe(`invalid definition: exec op ${d(low)} mount 1 output -5 is out of range [-1, 0]`);
    // A read-only mount yields no result: its output field is not an output.
    const ro = execOf({ meta: { args: ["true"] }, mounts: [root, { input: 0, dest: "/ro", readonly: true, output: HUGE }] });
    expect(loadDefinition(definition([image, ro, terminal(ro)])).ops.get(sha256(ro))?.outputs).toBe(1);
  });

  test("exec mount types and enums", () => {
    const type = execOf({ meta: { args: ["true"] }, mounts: [root, { dest: "/x", mountType: 9 as pb.MountType }] });
    expect(failure([image, type])).toBe(`invalid definition: exec op ${d(type)} mount 1 has an unknown mount type 9`);
    const net = execOf({ meta: { args: ["true"] }, mounts: [root], network: 7 as pb.NetMode });
    expect(failure([image, net])).toBe(`invalid definition: exec op ${d(net)} has an unknown network mode 7`);
  });

  test("file action outputs: huge, duplicate, none", () => {
    const huge = fileOf([{ input: 0, secondaryInput: -1, output: HUGE, ...mkfile }]);
    expect(failure([image, huge])).toBe(`invalid definition: file op ${d(huge)} action 0 output ${HUGE} is out of range [-1, 0]`);
    const dup = fileOf([{ input: 0, secondaryInput: -1, output: 0, ...mkfile }, { input: 1, secondaryInput: -1, output: 0, ...mkfile }]);
    expect(failure([image, dup])).toBe(`invalid definition: file op ${d(dup)} action 1 output 0 is also the output of action 0`);
    const none = fileOf([{ input: 0, secondaryInput: -1, output: -1, ...mkfile }]);
    expect(failure([image, none])).toBe(`invalid definition: file op ${d(none)} has no outputs`);
    const hugeInput = fileOf([{ input: HUGE, secondaryInput: -1, output: 0, ...mkfile }]);
    expect(failure([image, hugeInput])).toBe(`invalid definition: file op ${d(hugeInput)} action 0 input ${HUGE} is out of range [-1, 0]`);
  });

  test("Input.index far past the producer's outputs", () => {
    const merge = enc({ inputs: [input(image, HUGE)], merge: { inputs: [{ input: 0 }] } });
    expect(failure([image, merge])).toBe(`invalid definition: merge op ${d(merge)} uses output ${HUGE} of ${d(image)} which has 1 outputs`);
  });

  test("a NUL byte in a path is our InvalidArgument", () => {
    const dest = execOf({ meta: { args: ["true"] }, mounts: [root, { input: 0, dest: "/a\0b", output: -1, readonly: true }] });
    expect(failure([image, dest])).toBe(`invalid definition: exec op ${d(dest)} mount 1 dest contains a NUL byte`);
    const selector = execOf({ meta: { args: ["true"] }, mounts: [root, { input: 0, dest: "/a", selector: "/x\0", output: -1, readonly: true }] });
    expect(failure([image, selector])).toBe(`invalid definition: exec op ${d(selector)} mount 1 selector contains a NUL byte`);
    const cwd = execOf({ meta: { args: ["true"], cwd: "/\0" }, mounts: [root] });
    expect(failure([image, cwd])).toBe(`invalid definition: exec op ${d(cwd)} cwd contains a NUL byte`);
    const mk = fileOf([{ input: 0, secondaryInput: -1, output: 0, mkfile: { path: "/x\0/../../etc", mode: 0o644 } }]);
    expect(failure([image, mk])).toBe(`invalid definition: file op ${d(mk)} action 0 mkfile path contains a NUL byte`);
    const cp = fileOf([{ input: 0, secondaryInput: 0, output: 0, copy: { src: "/a", dest: "/b\0" } }]);
    expect(failure([image, cp])).toBe(`invalid definition: file op ${d(cp)} action 0 copy dest contains a NUL byte`);
    const ln = fileOf([{ input: 0, secondaryInput: -1, output: 0, symlink: { oldpath: "\0", newpath: "/l" } }]);
    expect(failure([image, ln])).toBe(`invalid definition: file op ${d(ln)} action 0 symlink oldpath contains a NUL byte`);
    const src = enc({ source: { identifier: "local://ctx\0" } });
    expect(failure([src])).toBe(`invalid definition: source op ${d(src)} identifier contains a NUL byte`);
    const attr = enc({ source: { identifier: "local://ctx", attrs: { "local.includepattern": "a\0" } } });
    expect(failure([attr])).toBe(`invalid definition: source op ${d(attr)} attribute local.includepattern contains a NUL byte`);
  });
});

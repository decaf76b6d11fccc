import { describe, expect, test } from "bun:test";
import { pb } from "../../../src/core/pb/index.ts";
import { sha256 } from "../../../src/core/digest.ts";
import { loadDefinition } from "../../../src/core/llb/definition.ts";
import { dumpDot, dumpJSON } from "../../../src/core/llb/dump.ts";
import { vector, vectorNames } from "./helpers.ts";

const names = vectorNames();

const enc = (op: pb.Op.$Properties): Uint8Array => pb.Op.encode(op).finish();
const load = (ops: Uint8Array[]) => {
  const last = ops.at(-1) as Uint8Array;
  return loadDefinition(pb.Definition.encode({ def: [...ops, enc({ inputs: [{ digest: sha256(last) }] })] }).finish());
};
const image = enc({ source: { identifier: "docker-image://busybox" } });

describe("dumpJSON", () => {
  test.each(names)("%s prints what Go's encoding/json prints", (name) => {
    const { bytes, json } = vector(name);
    const lines = dumpJSON(loadDefinition(bytes));
    expect(lines).toHaveLength(json.ops.length);
    lines.forEach((line, i) => {
      expect(line).not.toContain("\n");
      const parsed = JSON.parse(line) as { Op: unknown; Digest: string; OpMetadata: unknown };
      expect(Object.keys(parsed)).toEqual(["Op", "Digest", "OpMetadata"]);
      expect(parsed.Digest).toBe(json.ops[i]?.digest as string);
      // Same keys in the same order as the vector's Go-made JSON.
      expect(JSON.stringify(parsed.Op)).toBe(JSON.stringify(json.ops[i]?.op));
      expect(JSON.stringify(parsed.OpMetadata)).toBe(JSON.stringify(json.metadata[parsed.Digest] ?? null));
    });
  });

  test("escapes <, > and & like Go", () => {
    const line = dumpJSON(loadDefinition(vector("15-multi-output").bytes))[1] as string;
    expect(line).toContain("echo a \\u003e /o1/a");
    expect(line).not.toContain(">");
  });

  test("terminal op and missing metadata print null", () => {
    const lines = dumpJSON(load([image]));
    const terminal = enc({ inputs: [{ digest: sha256(image) }] });
    expect(JSON.parse(lines[1] as string)).toEqual({
      Op: { inputs: [{ digest: sha256(image), index: 0 }], Op: null },
      Digest: sha256(terminal),
      OpMetadata: null,
    });
  });

  test("oneofs, zero indexes, owners and enums", () => {
    const file = enc({
      inputs: [{ digest: sha256(image) }],
      file: {
        actions: [
          { input: 0, secondaryInput: -1, output: 0, mkdir: { path: "/d", mode: 0o755, owner: { user: { byName: { name: "root" } }, group: { byID: 7 } } } },
        ],
      },
    });
    const exec = enc({ inputs: [{ digest: sha256(file) }], exec: { meta: { args: ["ls"] }, mounts: [{ dest: "/", readonly: true, output: -1 }], network: 2 } });
    // A read-only root yields no result (output -1): the diff reads the file op's.
    const diff = enc({ inputs: [{ digest: sha256(file) }], diff: { lower: {}, upper: { input: -1 } } });
    const [, fileLine, execLine, diffLine] = dumpJSON(load([image, file, exec, diff])).map((l) => JSON.parse(l).Op);
    expect(fileLine.Op.file.actions[0]).toEqual({
      input: 0,
      secondaryInput: -1,
      output: 0,
      Action: { mkdir: { path: "/d", mode: 493, owner: { user: { User: { byName: { name: "root", input: 0 } } }, group: { User: { byID: 7 } } } } },
    });
    expect(execLine.Op.exec).toEqual({ meta: { args: ["ls"] }, mounts: [{ input: 0, dest: "/", output: -1, readonly: true }], network: 2 });
    expect(diffLine.Op.diff).toEqual({ lower: { input: 0 }, upper: { input: -1 } });
  });
});

describe("dumpDot", () => {
  test.each(names)("%s is a digraph with a node per op and an edge per input", (name) => {
    const def = loadDefinition(vector(name).bytes);
    const dot = dumpDot(def);
    const lines = dot.trimEnd().split("\n");
    expect(lines[0]).toBe("digraph {");
    expect(lines.at(-1)).toBe("}");
    const edges = [...def.ops.values()].reduce((n, op) => n + op.op.inputs.length, 0);
    expect(lines.filter((l) => l.includes(" [label=") && !l.includes(" -> "))).toHaveLength(def.ops.size);
    expect(lines.filter((l) => l.includes(" -> "))).toHaveLength(edges);
  });

  test("labels", () => {
    const dot = dumpDot(loadDefinition(vector("15-multi-output").bytes));
    expect(dot).toContain('[label="docker-image://docker.io/library/busybox:latest" shape="ellipse"];');
    expect(dot).toContain('[label="sh -c echo a > /o1/a; echo b > /o2/b" shape="box"];');
    expect(dot).toContain('[label="copy{src=/a, dest=/a},copy{src=/b, dest=/b}" shape="note"];');
    expect(dot).toContain('[label="output 1"];');
    expect(dot).toContain('[label="output 2"];');
    const terminal = loadDefinition(vector("15-multi-output").bytes).terminal?.digest ?? "";
    expect(dot).toContain(`"${terminal}" [label="${terminal}" shape="plaintext"];`);
    expect(dumpDot(loadDefinition(vector("13-merge").bytes))).toContain('[label="merge" shape="invtriangle"];');
    const diff = dumpDot(loadDefinition(vector("14-diff").bytes));
    expect(diff).toContain('[label="diff" shape="doublecircle"];');
  });

  test("exec edges are labelled with the mount point", () => {
    const dir = enc({ source: { identifier: "local://ctx" } });
    const exec = enc({
      inputs: [{ digest: sha256(image) }, { digest: sha256(dir) }],
      exec: { meta: { args: ["make"] }, mounts: [{ input: 0, dest: "/", output: 0 }, { input: 1, dest: "/src", output: -1 }] },
    });
    const dot = dumpDot(load([image, dir, exec]));
    expect(dot).toContain(`"${sha256(dir)}" -> "${sha256(exec)}" [label="/src"];`);
    expect(dot).toContain(`"${sha256(image)}" -> "${sha256(exec)}" [label=""];`);
  });

  test("an empty definition", () => {
    expect(dumpDot(loadDefinition(new Uint8Array()))).toBe("digraph {\n}\n");
    expect(dumpJSON(loadDefinition(new Uint8Array()))).toEqual([]);
  });
});

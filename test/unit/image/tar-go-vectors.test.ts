// Tar headers byte for byte as Go's archive/tar writes them: test/vectors/tar-go holds, for a
// table of headers (long, split and non-ASCII names, long link targets, xattrs, ids, sizes and
// times past the octal fields, devices), what Writer.WriteHeader wrote with containerd's
// FormatPAX and with fsutil's unset format (see its README).
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeHeader } from "../../../src/core/image/tar-header.ts";
import type { EntryType, GoTarFormat, TarHeader } from "../../../src/core/image/tar-header.ts";

const DIR = join(import.meta.dir, "../../vectors/tar-go");

interface GoCase {
  id: string;
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeNs: string;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Array<{ name: string; value: string }>;
  out: Record<"containerd" | "fsutil", string>;
}

const cases = JSON.parse(readFileSync(join(DIR, "INDEX.json"), "utf8")) as GoCase[];
const FLAVORS: ReadonlyArray<["containerd" | "fsutil", GoTarFormat]> = [
  ["containerd", "pax"],
  ["fsutil", "unknown"],
];

function header(c: GoCase): TarHeader {
  return {
    name: c.name,
    type: c.type,
    mode: c.mode,
    uid: c.uid,
    gid: c.gid,
    size: c.size,
    mtimeNs: BigInt(c.mtimeNs),
    linkname: c.linkname,
    devmajor: c.devmajor,
    devminor: c.devminor,
    xattrs: c.xattrs.map((x) => [x.name, new Uint8Array(Buffer.from(x.value, "base64"))]),
  };
}

describe("tar headers match Go's archive/tar", () => {
  test("the table is all there", () => {
    expect(cases.length).toBeGreaterThan(60);
  });
  for (const c of cases) {
    for (const [flavor, format] of FLAVORS) {
      const out = c.out[flavor];
      test(`${c.id} (${flavor})`, () => {
        if (out.startsWith("error: ")) {
          expect(() => encodeHeader(header(c), { format })).toThrow();
          return;
        }
        const want = new Uint8Array(readFileSync(join(DIR, out)));
        const got = encodeHeader(header(c), { format });
        expect(Buffer.from(got).toString("hex")).toBe(Buffer.from(want).toString("hex"));
      });
    }
  }
});

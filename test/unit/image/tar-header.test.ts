// Tar headers: encode → read round trips for what ustar cannot hold (long and non-ASCII names,
// big ids, nanosecond times, xattrs), PAX time formatting, base-256 numbers, and the reader's
// handling of extension headers.
import { describe, expect, test } from "bun:test";
import { BLOCK, encodeHeader, formatPaxTime, parsePax, parsePaxTime, readNumber } from "../../../src/core/image/tar-header.ts";
import type { TarHeader } from "../../../src/core/image/tar-header.ts";
import { TarReader } from "../../../src/core/image/tar-reader.ts";
import { expectError, streamOf } from "./fixtures.ts";

function header(o: Partial<TarHeader>): TarHeader {
  return { name: "f", type: "file", mode: 0o644, uid: 0, gid: 0, size: 0, mtimeNs: 0n, linkname: "", devmajor: 0, devminor: 0, xattrs: [], ...o };
}

function archive(headers: readonly TarHeader[]): Uint8Array {
  const parts = headers.flatMap((h) => [encodeHeader(h), new Uint8Array(Math.ceil(h.size / BLOCK) * BLOCK)]);
  return new Uint8Array(Buffer.concat([...parts, new Uint8Array(2 * BLOCK)]));
}

async function readBack(data: Uint8Array): Promise<TarHeader[]> {
  const tar = new TarReader(streamOf(data, 333), { onBytes: () => {} });
  const out: TarHeader[] = [];
  for (let h = await tar.next(); h !== undefined; h = await tar.next()) out.push(h);
  await tar.finish();
  return out;
}

describe("PAX times", () => {
  test("format as Go does and parse back", () => {
    const cases: Array<[bigint, string]> = [
      [1_700_000_000_000_000_000n, "1700000000"],
      [1_700_000_000_500_000_000n, "1700000000.5"],
      [1_700_000_000_000_000_001n, "1700000000.000000001"],
      [-1_500_000_000n, "-1.5"],
    ];
    for (const [ns, text] of cases) {
      expect(formatPaxTime(ns)).toBe(text);
      expect(parsePaxTime(text)).toBe(ns);
    }
  });
});

describe("encode → read", () => {
  test("values ustar cannot hold go through PAX records", async () => {
    const hs = [
      header({ name: `${"d".repeat(150)}/`, type: "dir", mode: 0o755 }),
      header({ name: `${"d".repeat(150)}/${"f".repeat(200)}`, size: 10, mtimeNs: 1_700_000_000_123_456_789n }),
      header({ name: "ünïcødé ☃", uid: 0o7777777 + 1, gid: 4_000_000_000 }),
      header({ name: "l", type: "symlink", linkname: `/${"t".repeat(300)}` }),
      header({ name: "x", xattrs: [["user.b", new Uint8Array([0, 1, 0xff])], ["security.capability", new Uint8Array([1, 2])]] }),
      header({ name: "dev", type: "char", devmajor: 4095, devminor: 1_000_000 }),
      header({ name: "s", mode: 0o6755, mtimeNs: -2_000_000_000n }),
    ];
    const back = await readBack(archive(hs));
    const sortXattrs = (h: TarHeader) => ({ ...h, xattrs: [...h.xattrs].sort(([a], [b]) => (a < b ? -1 : 1)) });
    expect(back).toEqual(hs.map(sortXattrs));
  });

  test("plain headers need no PAX entry", () => {
    expect(encodeHeader(header({ name: "a/b", size: 3, mtimeNs: 5_000_000_000n })).length).toBe(BLOCK);
  });

  test("GNU tar lists what we write", async () => {
    const hs = [header({ name: `${"p".repeat(120)}/q`, size: 0, mtimeNs: 1_700_000_000_123_456_789n })];
    const proc = Bun.spawnSync(["tar", "-tv", "--full-time"], { stdin: archive(hs) });
    expect(proc.stdout.toString()).toContain(`2023-11-14 22:13:20.123456789 ${"p".repeat(120)}/q`);
  });
});

describe("numbers and records", () => {
  test("base-256 numeric fields", () => {
    const field = new Uint8Array(12);
    field[0] = 0x80;
    field[10] = 0x01;
    field[11] = 0x02;
    expect(readNumber(field, 0, 12)).toBe(0x0102n);
    const neg = new Uint8Array(8).fill(0xff);
    expect(readNumber(neg, 0, 8)).toBe(-1n);
  });

  test("a malformed PAX record is refused", () => {
    expect(() => parsePax(new TextEncoder().encode("99 path=x\n"))).toThrow("invalid tar: malformed PAX record");
  });

  test("an unknown entry type is refused", async () => {
    const block = encodeHeader(header({ name: "sparse" }));
    block[156] = "S".charCodeAt(0);
    let sum = 0;
    block.fill(0x20, 148, 156);
    for (const b of block) sum += b;
    block.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, "0")}\0 `), 148);
    await expectError(readBack(new Uint8Array(Buffer.concat([block, new Uint8Array(1024)]))), "InvalidArgument", 'invalid tar: unsupported entry type "S"');
  });
});

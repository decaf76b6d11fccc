import { describe, expect, test } from "bun:test";
import { decodeCopyRecords, encodeCopyRecords } from "../../../../src/core/sources/local/copy-records.ts";
import { decodeTreeRecords, encodeTreeRecords } from "../../../../src/core/sources/local/tree-records.ts";

const records = {
  files: 3,
  bytes: 2 ** 40,
  walk: Uint8Array.from({ length: 24 }, (_, i) => i),
  walkEnds: Uint32Array.of(8, 24),
  lines: new TextEncoder().encode("a\0line\nanother\n"),
  lineEnds: Uint32Array.of(7, 15),
};
const plain = (r: ReturnType<typeof decodeTreeRecords>) => r && { ...r, walk: [...r.walk], walkEnds: [...r.walkEnds], lines: [...r.lines], lineEnds: [...r.lineEnds] };

/** `data` at an odd offset of a larger buffer, as a read Buffer may be. */
function misaligned(data: Uint8Array): Uint8Array {
  const buffer = new Uint8Array(data.length + 1);
  buffer.set(data, 1);
  return buffer.subarray(1);
}

describe("tree records", () => {
  test("round-trip, also from an unaligned buffer; another key, a damaged or cut file give none", () => {
    const data = encodeTreeRecords("k", records);
    expect(plain(decodeTreeRecords(data, "k"))).toEqual(plain(records));
    expect(plain(decodeTreeRecords(misaligned(data), "k"))).toEqual(plain(records));
    expect(decodeTreeRecords(data, "other")).toBeUndefined();
    const damaged = data.slice();
    damaged[30] = (damaged[30] ?? 0) ^ 1;
    expect(decodeTreeRecords(damaged, "k")).toBeUndefined();
    expect(decodeTreeRecords(data.subarray(0, data.length - 4), "k")).toBeUndefined();
  });

  test("copy records round-trip, also from an unaligned buffer", () => {
    const copy = { walk: records.walk, ends: records.walkEnds, reusable: Uint8Array.of(1, 0) };
    const data = encodeCopyRecords(copy);
    for (const bytes of [data, misaligned(data)]) {
      const back = decodeCopyRecords(bytes);
      expect([back?.walk, back?.ends, back?.reusable].map((a) => [...(a ?? [])])).toEqual([[...copy.walk], [8, 24], [1, 0]]);
    }
    expect(decodeCopyRecords(data.subarray(0, data.length - 4))).toBeUndefined();
  });
});

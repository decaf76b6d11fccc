import { expect, test } from "bun:test";
import { encodeFrame, FrameDecoder } from "../../../src/api/grpc/framing.ts";
import { GrpcError, Status } from "../../../src/api/grpc/status.ts";

const bytes = (...b: number[]) => new Uint8Array(b);

test("a frame is a zero flag, a big-endian length and the message", () => {
  expect([...encodeFrame(bytes(7, 8, 9))]).toEqual([0, 0, 0, 0, 3, 7, 8, 9]);
  expect([...encodeFrame(bytes())]).toEqual([0, 0, 0, 0, 0]);
});

test("messages split across chunks at every offset decode the same", () => {
  const wire = new Uint8Array([...encodeFrame(bytes(1, 2, 3)), ...encodeFrame(bytes()), ...encodeFrame(new Uint8Array(300).fill(5))]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const d = new FrameDecoder();
    const got = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))];
    expect(got.map((m) => m.length)).toEqual([3, 0, 300]);
    expect(d.idle).toBe(true);
  }
});

test("one byte at a time", () => {
  const wire = new Uint8Array([...encodeFrame(bytes(4, 5)), ...encodeFrame(bytes(6))]);
  const d = new FrameDecoder();
  const got: number[][] = [];
  for (const b of wire) {
    for (const m of d.push(bytes(b))) got.push([...m]);
    if (got.length === 1 && d.idle === false) expect(got[0]).toEqual([4, 5]);
  }
  expect(got).toEqual([[4, 5], [6]]);
});

test("a partial message leaves the decoder busy", () => {
  const d = new FrameDecoder();
  expect(d.push(encodeFrame(bytes(1, 2)).subarray(0, 6))).toEqual([]);
  expect(d.idle).toBe(false);
});

function errorOf(fn: () => unknown): GrpcError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GrpcError) return err;
    throw err;
  }
  throw new Error("expected a GrpcError");
}

test("a message over the limit is refused from its header, before its body arrives", () => {
  const d = new FrameDecoder(10);
  expect(d.push(encodeFrame(new Uint8Array(10)))).toHaveLength(1);
  const err = errorOf(() => d.push(bytes(0, 0, 0, 0, 11)));
  expect(err.code).toBe(Status.RESOURCE_EXHAUSTED);
  expect(err.message).toContain("11 bytes");
});

test("the default limit is 16 MiB", () => {
  const d = new FrameDecoder();
  expect(errorOf(() => d.push(bytes(0, 0x01, 0, 0, 1))).code).toBe(Status.RESOURCE_EXHAUSTED);
  expect(new FrameDecoder().push(bytes(0, 0x01, 0, 0, 0))).toEqual([]); // exactly 16 MiB is fine
});

test("compressed frames are UNIMPLEMENTED, other flags INTERNAL", () => {
  expect(errorOf(() => new FrameDecoder().push(bytes(1, 0, 0, 0, 1, 9))).code).toBe(Status.UNIMPLEMENTED);
  expect(errorOf(() => new FrameDecoder().push(bytes(2, 0, 0, 0, 0))).code).toBe(Status.INTERNAL);
});

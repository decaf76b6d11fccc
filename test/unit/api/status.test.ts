import { expect, test } from "bun:test";
import { BuildkitError, type ErrorCode } from "../../../src/core/errors.ts";
import {
  decodeGrpcMessage,
  decodeStatusDetails,
  encodeGrpcMessage,
  encodeStatusDetails,
  GrpcError,
  Status,
  toBuildkitError,
  toGrpcError,
} from "../../../src/api/grpc/status.ts";
import { formatGrpcTimeout, metadataValues, parseGrpcTimeout } from "../../../src/api/grpc/metadata.ts";

test("grpc-message is percent-encoded UTF-8 and decodes back", () => {
  const msg = "solving: 100% done\nnon-ascii é ✓ \t end";
  const encoded = encodeGrpcMessage(msg);
  expect(encoded).toMatch(/^[\x20-\x7e]*$/);
  expect(encoded).toContain("100%25 done%0A");
  expect(decodeGrpcMessage(encoded)).toBe(msg);
  expect(decodeGrpcMessage("bad %zz escape %4")).toBe("bad %zz escape %4");
});

test("every BuildkitError code maps to a gRPC code and back", () => {
  const codes: ErrorCode[] = ["NotFound", "InvalidArgument", "AlreadyExists", "FailedPrecondition", "Unavailable", "Canceled", "Unimplemented", "Internal"];
  const grpc = codes.map((c) => toGrpcError(new BuildkitError(c, "x")).code);
  expect(grpc).toEqual([Status.NOT_FOUND, Status.INVALID_ARGUMENT, Status.ALREADY_EXISTS, Status.FAILED_PRECONDITION, Status.UNAVAILABLE, Status.CANCELLED, Status.UNIMPLEMENTED, Status.INTERNAL]);
  expect(grpc.map((g) => toBuildkitError(new GrpcError(g, "x")).code)).toEqual(codes);
});

test("untyped errors are UNKNOWN with their message; GrpcErrors pass through", () => {
  const err = toGrpcError(new Error("resolving image: boom"));
  expect(err.code).toBe(Status.UNKNOWN);
  expect(err.message).toBe("resolving image: boom");
  const g = new GrpcError(Status.ABORTED, "a");
  expect(toGrpcError(g)).toBe(g);
});

test("status details round-trip through grpc-status-details-bin and are read loosely", () => {
  const err = new GrpcError(Status.INTERNAL, "m", { details: [{ type_url: "type.googleapis.com/x.Y", value: new Uint8Array([1, 2]) }] });
  const bin = encodeStatusDetails(err);
  expect(bin).toBeDefined();
  const details = decodeStatusDetails(bin);
  expect(details[0]?.type_url).toBe("type.googleapis.com/x.Y");
  expect([...(details[0]?.value ?? [])]).toEqual([1, 2]);
  expect(encodeStatusDetails(new GrpcError(Status.INTERNAL, "m"))).toBeUndefined();
  expect(decodeStatusDetails(undefined)).toEqual([]);
  expect(decodeStatusDetails("!!!not base64 or proto\u0000")).toEqual([]);
});

test("grpc-timeout parses every unit and formats within 8 digits", () => {
  expect(parseGrpcTimeout("2S")).toBe(2000);
  expect(parseGrpcTimeout("1H")).toBe(3_600_000);
  expect(parseGrpcTimeout("3M")).toBe(180_000);
  expect(parseGrpcTimeout("500m")).toBe(500);
  expect(parseGrpcTimeout("1000u")).toBe(1);
  expect(parseGrpcTimeout("1000000n")).toBe(1);
  expect(() => parseGrpcTimeout("123456789m")).toThrow(GrpcError);
  expect(() => parseGrpcTimeout("5x")).toThrow(GrpcError);
  expect(formatGrpcTimeout(1500)).toBe("1500m");
  expect(parseGrpcTimeout(formatGrpcTimeout(1e12))).toBeGreaterThanOrEqual(1e12);
});

test("repeated metadata values are read whether joined or listed", () => {
  expect(metadataValues({ a: "x, y" }, "A")).toEqual(["x", "y"]);
  expect(metadataValues({ a: ["x", "y"] }, "a")).toEqual(["x", "y"]);
  expect(metadataValues({}, "a")).toEqual([]);
});

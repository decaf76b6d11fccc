// The API schema keeps pb.Definition as raw bytes and reads int64 fields as numbers.
import { expect, test } from "bun:test";
import { apiPb, sessionPb } from "../../../src/api/pb/index.ts";
import { pb } from "../../../src/core/pb/index.ts";

const v1 = apiPb.moby.buildkit.v1;

test("SolveRequest.Definition arrives as the exact bytes of a pb.Definition", () => {
  const def = pb.Definition.encode({ def: [new Uint8Array([1, 2, 3])] }).finish();
  const wire = v1.SolveRequest.encode({ Ref: "r", Definition: def, FrontendInputs: { ctx: def } }).finish();
  const got = v1.SolveRequest.decode(wire);
  expect(Buffer.from(got.Definition).equals(Buffer.from(def))).toBe(true);
  expect(Buffer.from(got.FrontendInputs.ctx ?? []).equals(Buffer.from(def))).toBe(true);
});

test("int64 fields decode as numbers in both modules", () => {
  const rec = v1.UsageRecord.decode(v1.UsageRecord.encode({ ID: "x", Size: 2 ** 40, CreatedAt: { seconds: 1_700_000_000, nanos: 5 } }).finish());
  expect(rec.Size).toBe(2 ** 40);
  expect(rec.CreatedAt?.seconds).toBe(1_700_000_000);
  const st = sessionPb.fsutil.types.Stat.decode(sessionPb.fsutil.types.Stat.encode({ path: "a", size: 7, modTime: 1e18 }).finish());
  expect(st.size).toBe(7);
  expect(st.modTime).toBe(1e18);
});

test("both modules keep their own namespaces", () => {
  const a = v1.BytesMessage.encode({ data: new Uint8Array([9]) }).finish();
  const b = sessionPb.moby.filesync.v1.BytesMessage.decode(a);
  expect([...b.data]).toEqual([9]);
  const resp = v1.ListWorkersResponse.encode({ record: [{ ID: "w", platforms: [{ OS: "linux", Architecture: "amd64" }] }] }).finish();
  expect(v1.ListWorkersResponse.decode(resp).record[0]?.platforms?.[0]?.OS).toBe("linux");
});

// --output specs read as buildctl reads them (CSV quoting), and containerimage.config.
import { expect, test } from "bun:test";
import { parseOutputSpec } from "../../../src/core/exporters/spec.ts";
import { parseImageOptions } from "../../../src/core/exporters/image/attrs.ts";

test("a quoted field may hold commas and doubled quotes", () => {
  const spec = 'type=oci,dest=x.tar,"containerimage.config={""config"":{""Entrypoint"":[""/bin/buildkit"",""serve""]}}"';
  const { type, attrs } = parseOutputSpec(spec);
  expect(type).toBe("oci");
  expect(attrs.dest).toBe("x.tar");
  expect(JSON.parse(attrs["containerimage.config"] ?? "")).toEqual({ config: { Entrypoint: ["/bin/buildkit", "serve"] } });
  expect(parseOutputSpec("type=local,dest=out")).toEqual({ type: "local", attrs: { dest: "out" } });
  expect(() => parseOutputSpec('type=oci,"dest=x')).toThrow("unterminated quote");
});

test("containerimage.config gives the image's container settings", () => {
  const opts = parseImageOptions("oci", { "containerimage.config": '{"config":{"Entrypoint":["/usr/local/bin/buildkit","serve"]}}' }, { compression: "gzip", oci: true });
  expect(opts.config).toEqual({ Entrypoint: ["/usr/local/bin/buildkit", "serve"] });
  expect(() => parseImageOptions("oci", { "containerimage.config": "[1]" }, { compression: "gzip", oci: true })).toThrow('expected {"config": {...}}');
  expect(() => parseImageOptions("oci", { "containerimage.config": "{" }, { compression: "gzip", oci: true })).toThrow("containerimage.config");
});

// --output specs read as buildctl reads them (CSV quoting), and containerimage.config.
import { describe, expect, test } from "bun:test";
import { parseOutputSpec, parseSourceDateEpoch, withFrontendEpoch } from "../../../src/core/exporters/spec.ts";
import { parseImageOptions } from "../../../src/core/exporters/image/attrs.ts";

test("a quoted field may hold commas and doubled quotes", () => {
  const spec = 'type=oci,dest=x.tar,"containerimage.config={""config"":{""Entrypoint"":[""/bin/buildkit"",""serve""]}}"';
  const { type, attrs } = parseOutputSpec(spec);
  expect(type).toBe("oci");
  expect(attrs.dest).toBe("x.tar");
  expect(JSON.parse(attrs["containerimage.config"] ?? "")).toEqual({ config: { Entrypoint: ["/bin/buildkit", "serve"] } });
  expect(parseOutputSpec("type=local,dest=out")).toEqual({ type: "local", attrs: { dest: "out" } });
  expect(() => parseOutputSpec('type=oci,"dest=x')).toThrow('parsing --output "type=oci,\"dest=x": parse error on line 1, column 10: extraneous or missing " in quoted-field');
});

test("containerimage.config gives the image's container settings", () => {
  const opts = parseImageOptions("oci", { "containerimage.config": '{"config":{"Entrypoint":["/usr/local/bin/buildkit","serve"]}}' }, { compression: "gzip", oci: true });
  expect(opts.config).toEqual({ Entrypoint: ["/usr/local/bin/buildkit", "serve"] });
  expect(() => parseImageOptions("oci", { "containerimage.config": "[1]" }, { compression: "gzip", oci: true })).toThrow('expected {"config": {...}}');
  expect(() => parseImageOptions("oci", { "containerimage.config": "{" }, { compression: "gzip", oci: true })).toThrow("containerimage.config");
});

describe("a frontend's SOURCE_DATE_EPOCH", () => {
  test("becomes an exporter's source-date-epoch unless the exporter has its own", () => {
    const frontend = { "build-arg:SOURCE_DATE_EPOCH": "42", target: "x" };
    expect(withFrontendEpoch({ dest: "out" }, frontend)).toEqual({ dest: "out", "source-date-epoch": "42" });
    expect(withFrontendEpoch({ dest: "out", "source-date-epoch": "7" }, frontend)).toEqual({ dest: "out", "source-date-epoch": "7" });
    expect(withFrontendEpoch({ dest: "out" }, { target: "x" })).toEqual({ dest: "out" });
    expect(withFrontendEpoch({ dest: "out" }, undefined)).toEqual({ dest: "out" });
  });

  test("source-date-epoch values", () => {
    expect(parseSourceDateEpoch("tar", undefined)).toBeUndefined();
    expect(parseSourceDateEpoch("tar", "")).toBeUndefined();
    expect(parseSourceDateEpoch("tar", "0")).toBe(0);
    expect(() => parseSourceDateEpoch("tar", "-5")).toThrow("output type=tar: source-date-epoch must not be negative");
    expect(() => parseSourceDateEpoch("tar", "1.5")).toThrow('output type=tar: source-date-epoch must be an integer, not "1.5"');
  });
});

describe("boolean attributes given with no value, as BuildKit's exporters read them", () => {
  const parse = (attrs: Record<string, string>) => parseImageOptions("oci", attrs, { compression: "gzip", oci: false });
  test("force-compression=, oci-mediatypes= and buildinfo= mean true; buildinfo-attrs= means false", () => {
    const o = parse({ "force-compression": "", "oci-mediatypes": "", buildinfo: "", "buildinfo-attrs": "" });
    expect([o.force, o.oci, o.buildInfo, o.buildInfoAttrs]).toEqual([true, true, true, false]);
  });
  test("absent: BuildKit's defaults (build information on, without attributes)", () => {
    const o = parse({});
    expect([o.force, o.oci, o.buildInfo, o.buildInfoAttrs]).toEqual([false, false, true, false]);
  });
  test("attestation-inline and prefer-nondist-layers still need a value", () => {
    expect(() => parse({ "attestation-inline": "" })).toThrow("attestation-inline must be true or false");
  });
});

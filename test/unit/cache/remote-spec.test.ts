import { describe, expect, test } from "bun:test";
import { cacheLocation, parseCacheExportSpec, parseCacheImportSpec } from "../../../src/core/cache/remote/spec.ts";

describe("--export-cache / --import-cache specs", () => {
  test("local export: defaults and attributes", () => {
    expect(parseCacheExportSpec("type=local,dest=/c")).toEqual({ type: "local", dest: "/c", tag: "latest", mode: "min", compression: "gzip", force: false, oci: true });
    expect(parseCacheExportSpec("type=local,dest=/c,mode=max,tag=v2,compression=zstd")).toEqual({ type: "local", dest: "/c", tag: "v2", mode: "max", compression: "zstd", force: false, oci: true });
    // BuildKit's compression-level, force-compression and oci-mediatypes; a quoted CSV field as buildctl reads it.
    expect(parseCacheExportSpec('type=local,"dest=/c,d",compression-level=3,force-compression=true,oci-mediatypes=false')).toEqual({
      type: "local", dest: "/c,d", tag: "latest", mode: "min", compression: "gzip", level: 3, force: true, oci: false,
    });
  });

  test("registry refs are normalised, with latest as the default tag", () => {
    expect(parseCacheExportSpec("type=registry,ref=127.0.0.1:5000/cache")).toEqual({ type: "registry", ref: "127.0.0.1:5000/cache:latest", mode: "min", compression: "gzip", force: false, oci: true });
    expect(parseCacheImportSpec("type=registry,ref=example.com/a/b:v1")).toEqual({ type: "registry", ref: "example.com/a/b:v1" });
    expect(parseCacheImportSpec("type=registry,ref=cache")).toEqual({ type: "registry", ref: "docker.io/library/cache:latest" });
  });

  test("inline export: no place of its own; mode is read but the cache is always mode=min", () => {
    expect(parseCacheExportSpec("type=inline")).toEqual({ type: "inline" });
    expect(parseCacheExportSpec("type=inline,mode=max")).toEqual({ type: "inline" });
    expect(cacheLocation(parseCacheExportSpec("type=inline"))).toBe("the image config");
  });

  test("local import", () => {
    expect(parseCacheImportSpec("type=local,src=/c")).toEqual({ type: "local", src: "/c", tag: "latest" });
    expect(parseCacheImportSpec("type=local,src=/c,tag=v1")).toEqual({ type: "local", src: "/c", tag: "v1" });
  });

  test("mistakes are one-line errors naming the flag", () => {
    const cases: [() => unknown, string][] = [
      [() => parseCacheExportSpec("local"), `--export-cache "local": "local" is not key=value`],
      [() => parseCacheExportSpec("type=local,dest=a,dest=b"), `--export-cache "type=local,dest=a,dest=b": dest given twice`],
      [() => parseCacheExportSpec("dest=a"), `--export-cache "dest=a": type is required (type=local|registry|inline)`],
      [() => parseCacheExportSpec("type=gha"), `--export-cache "type=gha": unknown cache type "gha" (known: local, registry, inline)`],
      [() => parseCacheExportSpec("type=local"), `--export-cache "type=local": dest is required`],
      [() => parseCacheExportSpec("type=local,dest=a,mode=all"), `--export-cache "type=local,dest=a,mode=all": mode must be min or max, not "all"`],
      [() => parseCacheExportSpec("type=local,dest=a,compression=xz"), `--export-cache "type=local,dest=a,compression=xz": compression must be one of gzip, zstd, uncompressed, not "xz"`],
      [() => parseCacheExportSpec("type=local,dest=a,src=b"), `--export-cache "type=local,dest=a,src=b": unknown attribute src`],
      [() => parseCacheExportSpec("type=local,dest=a,compression-level=10"), `--export-cache "type=local,dest=a,compression-level=10": compression-level for gzip must be 0 to 9, not 10`],
      [() => parseCacheExportSpec("type=local,dest=a,compression=zstd,oci-mediatypes=false"), `--export-cache "type=local,dest=a,compression=zstd,oci-mediatypes=false": compression=zstd needs oci-mediatypes=true`],
      [() => parseCacheExportSpec("type=local,dest=a,force-compression=maybe"), `--export-cache "type=local,dest=a,force-compression=maybe": force-compression must be true or false, not "maybe"`],
      [() => parseCacheImportSpec("type=local,src=a,mode=max"), `--import-cache "type=local,src=a,mode=max": unknown attribute mode`],
      [() => parseCacheImportSpec("type=registry"), `--import-cache "type=registry": ref is required`],
      [() => parseCacheImportSpec("type=gha"), `--import-cache "type=gha": unknown cache type "gha" (known: local, registry)`],
      [() => parseCacheImportSpec("type=inline"), `--import-cache "type=inline": an inline cache is imported from its image with type=registry,ref=IMAGE`],
      [() => parseCacheExportSpec("type=inline,ref=x"), `--export-cache "type=inline,ref=x": unknown attribute ref`],
      [() => parseCacheExportSpec("type=inline,mode=all"), `--export-cache "type=inline,mode=all": mode must be min or max, not "all"`],
      [() => parseCacheImportSpec("type=registry,ref=a:b!"), `--import-cache "type=registry,ref=a:b!": invalid reference "a:b!": invalid tag`],
      [() => parseCacheImportSpec(`type=registry,ref=x/y@sha256:${"0".repeat(64)}`), `--import-cache "type=registry,ref=x/y@sha256:${"0".repeat(64)}": ref must name a tag, not a digest`],
    ];
    for (const [fn, message] of cases) expect(fn).toThrow(message);
  });

  test("cacheLocation names the directory or ref", () => {
    expect(cacheLocation(parseCacheExportSpec("type=local,dest=/d"))).toBe("/d");
    expect(cacheLocation(parseCacheImportSpec("type=local,src=/s"))).toBe("/s");
    expect(cacheLocation(parseCacheImportSpec("type=registry,ref=h:1/r:t"))).toBe("h:1/r:t");
  });
});

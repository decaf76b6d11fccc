import { describe, expect, test } from "bun:test";
import { parseWwwAuthenticate } from "../../../src/core/registry/www-authenticate.ts";

describe("WWW-Authenticate", () => {
  test("Docker Hub's bearer challenge", () => {
    expect(parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"')).toEqual([
      { scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/busybox:pull" } },
    ]);
  });

  test("basic, with spaces and case", () => {
    expect(parseWwwAuthenticate('Basic  Realm = "buildkit-ts-test"')).toEqual([{ scheme: "basic", params: { realm: "buildkit-ts-test" } }]);
  });

  test("several challenges in one header", () => {
    const got = parseWwwAuthenticate('Basic realm="a", Bearer realm="https://t/token",service=reg,error="insufficient_scope"');
    expect(got).toEqual([
      { scheme: "basic", params: { realm: "a" } },
      { scheme: "bearer", params: { realm: "https://t/token", service: "reg", error: "insufficient_scope" } },
    ]);
  });

  test("quoted values with escapes and commas", () => {
    expect(parseWwwAuthenticate('Bearer realm="x\\"y",scope="repository:a:pull,push"')[0]?.params).toEqual({ realm: 'x"y', scope: "repository:a:pull,push" });
  });

  test("a scheme without parameters, and garbage", () => {
    expect(parseWwwAuthenticate("Negotiate")).toEqual([{ scheme: "negotiate", params: {} }]);
    expect(parseWwwAuthenticate("")).toEqual([]);
    expect(parseWwwAuthenticate("=,=")).toEqual([]);
  });
});

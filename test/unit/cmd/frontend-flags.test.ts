// `build --frontend/--opt` parsing: usage errors exit 2 with a clear message.
import { describe, expect, test } from "bun:test";
import { parseFrontendFlags } from "../../../src/cmd/frontend-flags.ts";

describe("parseFrontendFlags", () => {
  test("no frontend: undefined; --opt alone is a usage error", () => {
    expect(parseFrontendFlags(undefined, [], undefined)).toBeUndefined();
    expect(() => parseFrontendFlags(undefined, ["target=a"], undefined)).toThrow("needs --frontend");
  });

  test("--opt K=V pairs, values may hold '='; a bare key or --file is refused", () => {
    expect(parseFrontendFlags("dockerfile.v0", ["target=a", "build-arg:X=1=2", "no-cache="], undefined)).toEqual({
      name: "dockerfile.v0",
      opts: { target: "a", "build-arg:X": "1=2", "no-cache": "" },
    });
    expect(() => parseFrontendFlags("dockerfile.v0", ["target"], undefined)).toThrow("--opt target: expected KEY=VALUE");
    expect(() => parseFrontendFlags("dockerfile.v0", [], "def.pb")).toThrow("cannot be used together");
  });
});

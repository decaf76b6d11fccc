import { describe, expect, test } from "bun:test";
import { parseModeString } from "../../../src/core/fs/mode-string.ts";

describe("parseModeString (chmod syntax)", () => {
  const cases: [string, number, boolean, number][] = [
    ["0755", 0o600, false, 0o755],
    ["755", 0o600, false, 0o755],
    ["4755", 0o000, false, 0o4755],
    ["u+x,g-w", 0o664, false, 0o744],
    ["+x", 0o644, false, 0o755],
    ["a-x", 0o755, false, 0o644],
    ["go-w", 0o666, false, 0o644],
    ["go=", 0o777, false, 0o700],
    ["=rw,+X", 0o644, false, 0o666],
    ["=rw,+X", 0o744, false, 0o777],
    ["=rw,+X", 0o644, true, 0o777],
    ["u=rwx,go=u-w", 0o000, false, 0o755],
    ["o=u", 0o750, false, 0o757],
    ["u+s", 0o755, false, 0o4755],
    ["g+s", 0o755, false, 0o2755],
    ["+t", 0o755, true, 0o1755],
    ["o+t", 0o755, true, 0o755],
    ["u-x+w", 0o500, false, 0o600],
  ];
  for (const [s, before, isDir, want] of cases) {
    test(`${s} on ${before.toString(8)}${isDir ? " (dir)" : ""} → ${want.toString(8)}`, () => {
      expect(parseModeString(s).apply(before, isDir)).toBe(want);
    });
  }

  test("malformed mode strings are rejected", () => {
    for (const bad of ["", "u", "u+x,", "z+x", "0999", "17777", "u*x", "+x,,"]) {
      expect(() => parseModeString(bad)).toThrow(`invalid mode string ${JSON.stringify(bad)}: invalid syntax`);
    }
  });
});

import { describe, expect, test } from "bun:test";
import { gitAuthConfig } from "../../../../src/core/sources/git/auth.ts";

const secrets = (values: Record<string, string>) => async (name: string) => (name in values ? new TextEncoder().encode(values[name]) : undefined);
const ids = { authTokenSecret: "GIT_AUTH_TOKEN", authHeaderSecret: "GIT_AUTH_HEADER" };
const basic = (token: string) => `basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;

describe("git auth header from secrets", () => {
  test("NAME.HOST before NAME, a header before a token; a token is basic x-access-token", async () => {
    const remote = "https://git.example.test/org/repo.git";
    expect(await gitAuthConfig({ remote, ...ids }, secrets({ GIT_AUTH_TOKEN: "t", "GIT_AUTH_TOKEN.git.example.test": "host-t" }))).toEqual([
      `http.${remote}.extraheader=Authorization: ${basic("host-t")}`,
    ]);
    expect(await gitAuthConfig({ remote, ...ids }, secrets({ GIT_AUTH_TOKEN: "t", GIT_AUTH_HEADER: "Bearer h" }))).toEqual([`http.${remote}.extraheader=Authorization: Bearer h`]);
    expect(await gitAuthConfig({ remote, ...ids }, secrets({ GIT_AUTH_TOKEN: "t\n" }))).toEqual([`http.${remote}.extraheader=Authorization: ${basic("t")}`]);
  });

  test("github.com tokens cover all of github.com; no secret, no attribute or a non-http remote: nothing", async () => {
    expect(await gitAuthConfig({ remote: "https://github.com/moby/buildkit.git", ...ids }, secrets({ GIT_AUTH_TOKEN: "t" }))).toEqual([
      `http.https://github.com/.extraheader=Authorization: ${basic("t")}`,
    ]);
    expect(await gitAuthConfig({ remote: "https://h.test/r", ...ids }, secrets({}))).toEqual([]);
    expect(await gitAuthConfig({ remote: "https://h.test/r" }, secrets({ GIT_AUTH_TOKEN: "t" }))).toEqual([]);
    expect(await gitAuthConfig({ remote: "git@h.test:r.git", ...ids }, secrets({ GIT_AUTH_TOKEN: "t" }))).toEqual([]);
  });
});

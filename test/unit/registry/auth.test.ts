import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAuthorizer, tokenExpiry } from "../../../src/core/registry/auth.ts";
import { createRegistryClient } from "../../../src/core/registry/client.ts";
import type { RegistryEndpoint } from "../../../src/core/registry/hosts.ts";
import { fakeFetch, never, noSleep } from "./fake-fetch.ts";
import type { FakeCall } from "./fake-fetch.ts";

const HOST = "reg.test";
const MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "x", digest: `sha256:${"a".repeat(64)}`, size: 2 }, layers: [] });
const UNAUTHORIZED = JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] });
const b64 = (s: string): string => Buffer.from(s).toString("base64");

function withDockerConfig<T>(auths: Record<string, unknown>, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "bk-auth-"));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ auths }));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** A registry at https://reg.test that wants `Bearer good-token`, with a token server at https://auth.test/token. */
function bearerRegistry(opts: { acceptCreds?: string; expiresIn?: number } = {}) {
  return fakeFetch((c: FakeCall) => {
    const url = new URL(c.url);
    if (url.host === "auth.test") {
      const basic = c.headers.get("authorization");
      if (opts.acceptCreds !== undefined && basic !== `Basic ${b64(opts.acceptCreds)}`) return new Response("denied", { status: 401, statusText: "Unauthorized" });
      return Response.json({ token: "good-token", expires_in: opts.expiresIn ?? 300 });
    }
    if (c.headers.get("authorization") !== "Bearer good-token") {
      return new Response(UNAUTHORIZED, {
        status: 401,
        statusText: "Unauthorized",
        headers: { "WWW-Authenticate": `Bearer realm="https://auth.test/token",service="reg.test",scope="repository:${url.pathname.replace(/^\/v2\/(.*)\/(manifests|blobs)\/.*$/, "$1")}:pull"` },
      });
    }
    return new Response(MANIFEST, { headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" } });
  });
}

/** A registry that wants Basic alice:secret. */
function basicRegistry() {
  return fakeFetch((c) => {
    if (c.headers.get("authorization") !== `Basic ${b64("alice:secret")}`) {
      return new Response(UNAUTHORIZED, { status: 401, statusText: "Unauthorized", headers: { "WWW-Authenticate": 'Basic realm="test"' } });
    }
    return new Response(MANIFEST);
  });
}

const platform = { os: "linux", architecture: "amd64" };
const tokenCalls = (calls: FakeCall[]): FakeCall[] => calls.filter((c) => c.url.startsWith("https://auth.test/"));

describe("auth", () => {
  test("bearer: anonymous token for the challenge's scope, then cached", async () => {
    const fake = bearerRegistry();
    const client = createRegistryClient({ fetch: fake.fetch, dockerConfigDir: "/nonexistent", sleep: noSleep });
    // resolve fails at the config blob (the fake serves the manifest for every path), after auth worked
    await client.resolve(`${HOST}/a/b:latest`, platform, never).catch(() => undefined);
    await client.resolve(`${HOST}/a/b:v2`, platform, never).catch(() => undefined);
    const tokens = tokenCalls(fake.calls);
    expect(tokens.length).toBe(1);
    const url = new URL(tokens[0]?.url ?? "");
    expect(url.searchParams.get("service")).toBe("reg.test");
    expect(url.searchParams.getAll("scope")).toEqual(["repository:a/b:pull"]);
    expect(tokens[0]?.headers.get("authorization")).toBeNull();
    const unauthorized = fake.calls.filter((c) => c.url.startsWith("https://reg.test/") && c.headers.get("authorization") === null);
    expect(unauthorized.length).toBe(1);
  });

  test("bearer: credentials from config.json go to the token server", async () => {
    await withDockerConfig({ [HOST]: { auth: b64("alice:secret") } }, async (dir) => {
      const fake = bearerRegistry({ acceptCreds: "alice:secret" });
      const client = createRegistryClient({ fetch: fake.fetch, dockerConfigDir: dir, sleep: noSleep });
      await client.resolve(`${HOST}/a/b:latest`, platform, never).catch(() => undefined);
      expect(tokenCalls(fake.calls)[0]?.headers.get("authorization")).toBe(`Basic ${b64("alice:secret")}`);
      expect(fake.calls.some((c) => c.headers.get("authorization") === "Bearer good-token")).toBe(true);
    });
  });

  test("bearer: the token server refusing credentials is a clear error", async () => {
    await withDockerConfig({ [HOST]: { username: "alice", password: "wrong" } }, async (dir) => {
      const client = createRegistryClient({ fetch: bearerRegistry({ acceptCreds: "alice:secret" }).fetch, dockerConfigDir: dir, sleep: noSleep });
      await expect(client.resolve(`${HOST}/a/b:latest`, platform, never)).rejects.toThrow(
        /^resolving image reg\.test\/a\/b:latest: fetching token from https:\/\/auth\.test\/token: 401 Unauthorized \(credentials for reg\.test were rejected\)$/,
      );
    });
  });

  test("concurrent requests share one token request", async () => {
    const fake = bearerRegistry();
    const auth = createAuthorizer({ credentials: async () => ({ get: async () => undefined }), fetch: fake.fetch, userAgent: "t" });
    const e: RegistryEndpoint = { host: HOST, scheme: "https", path: "/v2", httpFallback: false, mirror: false };
    const challenge = await fake.fetch("https://reg.test/v2/a/manifests/x");
    expect(await auth.unauthorized(e, ["repository:a:pull"], challenge, never)).toBe(true);
    const headers = await Promise.all([1, 2, 3].map(() => auth.authorization(e, ["repository:a:pull"], never)));
    expect(headers).toEqual(["Bearer good-token", "Bearer good-token", "Bearer good-token"]);
    expect(tokenCalls(fake.calls).length).toBe(1);
  });

  test("tokens expire", async () => {
    let now = 1_000_000;
    const fake = bearerRegistry({ expiresIn: 60 });
    const auth = createAuthorizer({ credentials: async () => ({ get: async () => undefined }), fetch: fake.fetch, userAgent: "t", now: () => now });
    const e: RegistryEndpoint = { host: HOST, scheme: "https", path: "/v2", httpFallback: false, mirror: false };
    await auth.unauthorized(e, ["repository:a:pull"], await fake.fetch("https://reg.test/v2/a/manifests/x"), never);
    await auth.authorization(e, ["repository:a:pull"], never);
    expect(tokenCalls(fake.calls).length).toBe(1);
    now += 56_000;
    await auth.authorization(e, ["repository:a:pull"], never);
    expect(tokenCalls(fake.calls).length).toBe(2);
    expect(tokenExpiry(0, 60)).toBe(55_000);
    expect(tokenExpiry(0, 10)).toBe(9_000);
  });

  test("basic: no credentials → 401 error naming the host", async () => {
    const client = createRegistryClient({ fetch: basicRegistry().fetch, dockerConfigDir: "/nonexistent", sleep: noSleep });
    await expect(client.resolve(`${HOST}/x:latest`, platform, never)).rejects.toThrow(
      /^resolving image reg\.test\/x:latest: 401 Unauthorized: authentication required \(no credentials for reg\.test\)$/,
    );
  });

  test("basic: wrong credentials are rejected; right ones are sent at once afterwards", async () => {
    await withDockerConfig({ [HOST]: { auth: b64("alice:wrong") } }, async (dir) => {
      const client = createRegistryClient({ fetch: basicRegistry().fetch, dockerConfigDir: dir, sleep: noSleep });
      await expect(client.resolve(`${HOST}/x:latest`, platform, never)).rejects.toMatchObject({
        code: "FailedPrecondition",
        message: "resolving image reg.test/x:latest: 401 Unauthorized: authentication required (credentials for reg.test were rejected)",
      });
    });
    await withDockerConfig({ [`https://${HOST}`]: { auth: b64("alice:secret") } }, async (dir) => {
      const fake = basicRegistry();
      const client = createRegistryClient({ fetch: fake.fetch, dockerConfigDir: dir, sleep: noSleep });
      await client.resolve(`${HOST}/x:latest`, platform, never).catch(() => undefined);
      expect(fake.calls.map((c) => c.headers.get("authorization") !== null)).toEqual([false, true, true]);
    });
  });
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentialKey, loadDockerConfig, parseDockerConfig } from "../../../src/core/registry/docker-config.ts";

const b64 = (s: string): string => Buffer.from(s).toString("base64");

describe("docker config.json", () => {
  test("auths with base64 auth and with username/password", async () => {
    const store = parseDockerConfig(
      JSON.stringify({
        auths: {
          "127.0.0.1:5000": { auth: b64("alice:pa:ss") },
          "https://registry.example.com/v1/": { username: "bob", password: "secret" },
          "https://index.docker.io/v1/": { auth: b64("hub:token") },
          "tok.example.com": { identitytoken: "refresh-me" },
          "empty.example.com": {},
        },
      }),
      "config.json",
    );
    expect(await store.get("127.0.0.1:5000")).toEqual({ username: "alice", password: "pa:ss" });
    expect(await store.get("registry.example.com")).toEqual({ username: "bob", password: "secret" });
    expect(await store.get("docker.io")).toEqual({ username: "hub", password: "token" });
    expect(await store.get("registry-1.docker.io")).toEqual({ username: "hub", password: "token" });
    expect(await store.get("tok.example.com")).toEqual({ username: "", password: "", identityToken: "refresh-me" });
    expect(await store.get("empty.example.com")).toBeUndefined();
    expect(await store.get("127.0.0.1:5001")).toBeUndefined();
  });

  describe("credential helpers (docker-credential-NAME get)", () => {
    let bin: string;
    let savedPath: string | undefined;
    beforeAll(() => {
      // Real helper programs: shell scripts answering as docker-credential-* helpers do.
      bin = mkdtempSync(join(tmpdir(), "bk-credhelpers-"));
      const helper = (name: string, script: string) => writeFileSync(join(bin, `docker-credential-${name}`), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
      helper("store", 'read server; case "$server" in https://index.docker.io/v1/) echo \'{"ServerURL":"x","Username":"hubuser","Secret":"hubpass"}\';; reg.test) echo \'{"Username":"<token>","Secret":"refresh"}\';; *) echo "credentials not found in native keychain"; exit 1;; esac');
      helper("gcloud", 'read server; echo "{\\"Username\\":\\"_token\\",\\"Secret\\":\\"for-$server\\"}"');
      helper("broken", "echo 'keychain locked' >&2; exit 3");
      savedPath = process.env.PATH;
      process.env.PATH = `${bin}:${savedPath}`;
    });
    afterAll(() => {
      process.env.PATH = savedPath;
      rmSync(bin, { recursive: true, force: true });
    });

    test("credHelpers per host, else credsStore; what the helper does not know falls back to auths", async () => {
      const store = parseDockerConfig(
        JSON.stringify({ credsStore: "store", credHelpers: { "gcr.io": "gcloud" }, auths: { "127.0.0.1:5000": { auth: b64("file:pw") } } }),
        "c.json",
      );
      expect(await store.get("gcr.io")).toEqual({ username: "_token", password: "for-gcr.io" });
      expect(await store.get("docker.io")).toEqual({ username: "hubuser", password: "hubpass" });
      expect(await store.get("reg.test")).toEqual({ username: "", password: "", identityToken: "refresh" });
      expect(await store.get("127.0.0.1:5000")).toEqual({ username: "file", password: "pw" });
      expect(await store.get("elsewhere.test")).toBeUndefined();
    });

    test("a missing helper is noted and auths used; a failing one is a one-line error naming it", async () => {
      const notes: string[] = [];
      const missing = parseDockerConfig(JSON.stringify({ credsStore: "desktop", auths: { h: { auth: b64("u:p") } } }), "c.json", (m) => notes.push(m));
      expect(await missing.get("h")).toEqual({ username: "u", password: "p" });
      expect(notes).toEqual(['credential helper docker-credential-desktop for h is not installed; using "auths"']);
      const broken = parseDockerConfig(JSON.stringify({ credHelpers: { h: "broken" } }), "c.json");
      await expect(broken.get("h")).rejects.toThrow("credential helper docker-credential-broken for h: keychain locked");
    });
  });

  test("bad JSON and bad auth are one-line errors", () => {
    expect(() => parseDockerConfig("{", "/x/config.json")).toThrow(/^reading docker config \/x\/config\.json: /);
    expect(() => parseDockerConfig(JSON.stringify({ auths: { h: { auth: b64("nocolon") } } }), "c.json")).toThrow(
      'reading docker config c.json (h): "auth" is not base64 of user:password',
    );
  });

  test("credential keys drop schemes and paths and merge Docker Hub's names", () => {
    expect(credentialKey("https://127.0.0.1:5000/v2/")).toBe("127.0.0.1:5000");
    expect(credentialKey("index.docker.io")).toBe("index.docker.io");
    expect(credentialKey("docker.io")).toBe("index.docker.io");
  });

  test("loads $DIR/config.json; a missing file means no credentials", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bk-dockercfg-"));
    try {
      expect(await (await loadDockerConfig(dir)).get("h")).toBeUndefined();
      writeFileSync(join(dir, "config.json"), JSON.stringify({ auths: { h: { auth: b64("u:p") } } }));
      expect(await (await loadDockerConfig(dir)).get("h")).toEqual({ username: "u", password: "p" });
      const saved = process.env.DOCKER_CONFIG;
      process.env.DOCKER_CONFIG = dir;
      try {
        expect(await (await loadDockerConfig()).get("h")).toEqual({ username: "u", password: "p" });
      } finally {
        if (saved === undefined) delete process.env.DOCKER_CONFIG;
        else process.env.DOCKER_CONFIG = saved;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

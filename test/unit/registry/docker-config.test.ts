import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentialKey, loadDockerConfig, parseDockerConfig } from "../../../src/core/registry/docker-config.ts";

const b64 = (s: string): string => Buffer.from(s).toString("base64");

describe("docker config.json", () => {
  test("auths with base64 auth and with username/password", () => {
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
    expect(store.get("127.0.0.1:5000")).toEqual({ username: "alice", password: "pa:ss" });
    expect(store.get("registry.example.com")).toEqual({ username: "bob", password: "secret" });
    expect(store.get("docker.io")).toEqual({ username: "hub", password: "token" });
    expect(store.get("registry-1.docker.io")).toEqual({ username: "hub", password: "token" });
    expect(store.get("tok.example.com")).toEqual({ username: "", password: "", identityToken: "refresh-me" });
    expect(store.get("empty.example.com")).toBeUndefined();
    expect(store.get("127.0.0.1:5001")).toBeUndefined();
  });

  test("credsStore and credHelpers are noted, not run", () => {
    const notes: string[] = [];
    const store = parseDockerConfig(JSON.stringify({ credsStore: "desktop", credHelpers: { "gcr.io": "gcloud" }, auths: {} }), "c.json", (m) => notes.push(m));
    expect(store.get("gcr.io")).toBeUndefined();
    expect(notes).toEqual([
      'docker config c.json: credsStore "desktop" is not supported, using "auths" only',
      'docker config c.json: credHelpers for gcr.io are not supported, using "auths" only',
    ]);
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
      expect((await loadDockerConfig(dir)).get("h")).toBeUndefined();
      writeFileSync(join(dir, "config.json"), JSON.stringify({ auths: { h: { auth: b64("u:p") } } }));
      expect((await loadDockerConfig(dir)).get("h")).toEqual({ username: "u", password: "p" });
      const saved = process.env.DOCKER_CONFIG;
      process.env.DOCKER_CONFIG = dir;
      try {
        expect((await loadDockerConfig()).get("h")).toEqual({ username: "u", password: "p" });
      } finally {
        if (saved === undefined) delete process.env.DOCKER_CONFIG;
        else process.env.DOCKER_CONFIG = saved;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

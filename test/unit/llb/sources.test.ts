import { describe, expect, test } from "bun:test";
import { git, http, image, LINUX_ARM64, LLBError, local, scratch } from "../../../src/core/llb/index.ts";
import { lastOp, metadataOf } from "./helpers.ts";

describe("image", () => {
  test.each([
    ["busybox", "docker.io/library/busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36"],
    ["library/busybox", "docker.io/library/busybox:latest"],
    ["index.docker.io/foo/bar", "docker.io/foo/bar:latest"],
    ["127.0.0.1:5000/test/busybox", "127.0.0.1:5000/test/busybox:latest"],
    ["localhost/x", "localhost/x:latest"],
    [`busybox@sha256:${"a".repeat(64)}`, `docker.io/library/busybox@sha256:${"a".repeat(64)}`],
  ])("%s normalises to %s", (ref, want) => {
    expect(lastOp(image(ref)).source!.identifier).toBe(`docker-image://${want}`);
  });

  test("carries the platform; resolve mode and layer limit attributes", () => {
    const op = lastOp(image("busybox", { platform: LINUX_ARM64, resolveMode: "pull", layerLimit: 2 }));
    expect(op.platform).toMatchObject({ Architecture: "arm64", OS: "linux" });
    expect(op.source!.attrs).toEqual({ "image.layerlimit": "2", "image.resolvemode": "pull" });
    expect(metadataOf(image("busybox", { resolveMode: "pull" }))!.caps).toEqual({ "source.image": true, "source.image.resolvemode": true });
  });

  test.each([
    ["", `image: invalid reference "": empty`],
    ["Busybox", `image: invalid reference "Busybox": repository name must be lowercase`],
    ["busybox:bad tag", `image: invalid reference "busybox:bad tag": invalid tag`],
    ["busybox@sha256:abc", `image: invalid reference "busybox@sha256:abc": invalid digest`],
  ])("rejects %p", (ref, message) => {
    expect(() => image(ref)).toThrow(LLBError);
    expect(() => image(ref)).toThrow(message);
  });
});

describe("git", () => {
  test("scp-like ssh remote gets ssh attributes", () => {
    const op = lastOp(git("git@github.com:moby/buildkit.git", "v0.12", { knownSSHHosts: "github.com ssh-ed25519 AAAA" }));
    expect(op.source!.identifier).toBe("git://github.com/moby/buildkit.git#v0.12");
    expect(op.source!.attrs).toMatchObject({ "git.fullurl": "git@github.com:moby/buildkit.git", "git.mountsshsock": "default", "git.knownsshhosts": "github.com ssh-ed25519 AAAA\n" });
    expect(op.platform ?? undefined).toBeUndefined();
  });

  test("subdir and auth secrets", () => {
    const op = lastOp(git("https://example.com/r.git", "main", { subdir: "docs/", authTokenSecret: "TOK" }));
    expect(op.source!.identifier).toBe("git://example.com/r.git#main:docs");
    expect(op.source!.attrs).toMatchObject({ "git.authtokensecret": "TOK", "git.authheadersecret": "GIT_AUTH_HEADER" });
    expect(metadataOf(git("https://example.com/r.git", "", { authTokenSecret: "TOK" }))!.caps!["source.git.httpauth"]).toBe(true);
  });

  test("no ref: no fragment", () => {
    expect(lastOp(git("https://example.com/r.git")).source!.identifier).toBe("git://example.com/r.git");
  });

  test("unknown scheme is an error", () => {
    expect(() => git("ftp://example.com/r.git")).toThrow("git: unknown git protocol in \"ftp://example.com/r.git\"");
  });
});

describe("local", () => {
  test("patterns are JSON as Go writes it; unique id from the marshal", () => {
    const op = lastOp(local("ctx", { includePatterns: ["a<b>&"], excludePatterns: ["x"] }), { localUniqueId: "u1" });
    expect(op.source!.attrs).toEqual({ "local.excludepatterns": `["x"]`, "local.includepattern": `["a\\u003cb\\u003e\\u0026"]`, "local.unique": "u1" });
    expect(op.platform ?? undefined).toBeUndefined();
  });

  test("a session id replaces the unique id", () => {
    expect(lastOp(local("ctx", { sessionId: "s1" })).source!.attrs).toEqual({ "local.session": "s1" });
  });

  test("the default unique id is stable within a machine", () => {
    expect(Buffer.from(local("ctx").marshal()).equals(Buffer.from(local("ctx").marshal()))).toBe(true);
  });

  test("empty name", () => {
    expect(() => local("")).toThrow("local: a name is required");
  });
});

describe("http", () => {
  test("attributes and caps", () => {
    const s = http("https://example.com/f.tgz", { checksum: `sha256:${"b".repeat(64)}`, filename: "f.tgz", perm: 0o644, uid: 1, gid: 2 });
    expect(lastOp(s).source!.attrs).toEqual({ "http.checksum": `sha256:${"b".repeat(64)}`, "http.filename": "f.tgz", "http.gid": "2", "http.perm": "0644", "http.uid": "1" });
    expect(Object.keys(metadataOf(s)!.caps!).sort()).toEqual(["soruce.http.uidgid", "source.http", "source.http.checksum", "source.http.perm"]);
  });
});

describe("scratch", () => {
  test("marshals to an empty definition", () => {
    expect(scratch().marshal().length).toBe(0);
  });
});

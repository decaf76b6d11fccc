import { describe, expect, test } from "bun:test";
import { BuildkitError } from "../../../../src/core/errors.ts";
import { loadDefinition } from "../../../../src/core/llb/definition.ts";
import { git, LINUX_AMD64 } from "../../../../src/core/llb/index.ts";
import type { pb } from "../../../../src/core/pb/index.ts";
import {
  describeSource, isGitTransport, parseGitIdentifier, redactRemote, type GitIdentifier,
} from "../../../../src/core/sources/git/index.ts";

/** The SourceOp our client writes. */
function written(...args: Parameters<typeof git>): pb.SourceOp.$Properties {
  const def = loadDefinition(git(...args).marshal({ platform: LINUX_AMD64 }));
  for (const op of def.ops.values()) if (op.op.source) return op.op.source;
  throw new Error("no source op");
}

function parsed(op: pb.SourceOp.$Properties): GitIdentifier {
  return parseGitIdentifier(op.identifier ?? "", op.attrs ?? {});
}

const base = { ref: "", subdir: "", keepGitDir: false };

describe("parseGitIdentifier: what our client writes", () => {
  test("host/path without a scheme is https; the ref after #", () => {
    const op = written("github.com/opencontainers/runc", "v1.1.5");
    expect(op.identifier).toBe("git://github.com/opencontainers/runc#v1.1.5");
    expect(op.attrs?.["git.fullurl"]).toBe("https://github.com/opencontainers/runc");
    expect(parsed(op)).toMatchObject({ ...base, remote: "https://github.com/opencontainers/runc", ref: "v1.1.5" });
  });

  test("a git:// remote keeps its transport (from git.fullurl)", () => {
    const id = parsed(written("git://127.0.0.1:9418/repo.git", "main"));
    expect(id).toMatchObject({ ...base, remote: "git://127.0.0.1:9418/repo.git", ref: "main" });
  });

  test("keepGitDir and subdir", () => {
    const op = written("https://github.com/moby/buildkit.git", "master", { keepGitDir: true, subdir: "/docs/" });
    expect(op.identifier).toBe("git://github.com/moby/buildkit.git#master:docs");
    expect(parsed(op)).toMatchObject({ remote: "https://github.com/moby/buildkit.git", ref: "master", subdir: "docs", keepGitDir: true });
  });

  test("a subdir without a ref", () => {
    expect(parsed(written("https://example.com/r.git", "", { subdir: "a/b" }))).toMatchObject({ ref: "", subdir: "a/b" });
  });

  test("a file:// remote", () => {
    const op = written("file:///srv/git/repo", "v1");
    expect(op.identifier).toBe("git:///srv/git/repo#v1");
    expect(parsed(op)).toMatchObject({ ...base, remote: "file:///srv/git/repo", ref: "v1" });
  });

  test("an ssh remote; auth attributes are recorded", () => {
    const id = parsed(written("git@github.com:moby/buildkit.git", "main", { knownSSHHosts: "github.com ssh-ed25519 AAAA" }));
    expect(id).toMatchObject({ remote: "git@github.com:moby/buildkit.git", ref: "main", mountSSHSock: "default", knownSSHHosts: "github.com ssh-ed25519 AAAA\n" });
    expect(id.authTokenSecret).toBe("GIT_AUTH_TOKEN");
    expect(id.authHeaderSecret).toBe("GIT_AUTH_HEADER");
  });
});

describe("parseGitIdentifier: BuildKit's vectors", () => {
  test("git://github.com/opencontainers/runc#v1.1.5 with git.fullurl", () => {
    const id = parseGitIdentifier("git://github.com/opencontainers/runc#v1.1.5", { "git.fullurl": "https://github.com/opencontainers/runc" });
    expect(id).toMatchObject({ ...base, remote: "https://github.com/opencontainers/runc", ref: "v1.1.5" });
  });

  test("git://github.com/containerd/containerd.git#main: no fullurl, so https", () => {
    expect(parseGitIdentifier("git://github.com/containerd/containerd.git#main")).toMatchObject({
      ...base, remote: "https://github.com/containerd/containerd.git", ref: "main",
    });
  });

  test("a git.fullurl without a transport gets https", () => {
    expect(parseGitIdentifier("git://github.com/a/b", { "git.fullurl": "github.com/a/b" }).remote).toBe("https://github.com/a/b");
  });

  const vectors: [string, Partial<GitIdentifier>][] = [
    ["github.com/moby/buildkit.git#main", { remote: "https://github.com/moby/buildkit.git", ref: "main" }],
    ["ssh://root@subdomain.example.hostname:2222/root/my/really/weird/path/foo.git", { remote: "ssh://root@subdomain.example.hostname:2222/root/my/really/weird/path/foo.git" }],
    ["ssh://root@subdomain.example.hostname:2222/root/foo.git#main", { remote: "ssh://root@subdomain.example.hostname:2222/root/foo.git", ref: "main" }],
    ["git@github.com:moby/buildkit.git", { remote: "git@github.com:moby/buildkit.git" }],
    ["git@github.com:user/repo.git#mybranch:mydir/mysubdir/", { remote: "git@github.com:user/repo.git", ref: "mybranch", subdir: "mydir/mysubdir" }],
    ["git://github.com/user/repo.git", { remote: "git://github.com/user/repo.git" }],
    ["git://github.com/user/repo.git#mybranch:mydir/mysubdir/", { remote: "git://github.com/user/repo.git", ref: "mybranch", subdir: "mydir/mysubdir" }],
    ["git://github.com/user/repo.git#:mydir/mysubdir/", { remote: "git://github.com/user/repo.git", ref: "", subdir: "mydir/mysubdir" }],
    ["https://github.com/user/repo.git#mybranch:/", { remote: "https://github.com/user/repo.git", ref: "mybranch", subdir: "" }],
    ["https://github.com/user/repo.git#:.", { remote: "https://github.com/user/repo.git", ref: "", subdir: "" }],
  ];
  for (const [spec, want] of vectors) {
    test(spec, () => {
      // BuildKit's NewGitIdentifier gets what follows the source's `git://`.
      expect(parseGitIdentifier(`git://${spec}`)).toMatchObject({ ...base, ...want });
    });
  }
});

describe("parseGitIdentifier: paths and bad input", () => {
  test("an absolute path stays a path", () => {
    expect(parseGitIdentifier("git:///srv/repo#main:sub")).toMatchObject({ remote: "/srv/repo", ref: "main", subdir: "sub" });
  });

  test("a full commit SHA as ref", () => {
    const sha = "0123456789abcdef0123456789abcdef01234567";
    expect(parseGitIdentifier(`git://github.com/a/b#${sha}`).ref).toBe(sha);
  });

  const bad = [
    ["not a git identifier", "docker-image://busybox"],
    ["ref that is an option", "git://github.com/a/b#--upload-pack=evil"],
    ["ref with ..", "git://github.com/a/b#a..b"],
    ["subdir escaping the repo", "git://github.com/a/b#main:../etc"],
    ["unknown protocol", "git://github.com/a/b#main"],
  ] as const;
  for (const [what, identifier] of bad) {
    test(`rejects a ${what}`, () => {
      const attrs: Record<string, string> = what === "unknown protocol" ? { "git.fullurl": "ftp://example.com/r.git" } : {};
      let err: unknown;
      try {
        parseGitIdentifier(identifier, attrs);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BuildkitError);
      expect((err as BuildkitError).code).toBe("InvalidArgument");
    });
  }
});

describe("remote helpers", () => {
  test("isGitTransport", () => {
    expect(["https://a/b", "http://a/b", "git://a/b", "ssh://a/b", "file:///a", "git@github.com:a/b"].map(isGitTransport)).toEqual([true, true, true, true, true, true]);
    expect(["github.com/a/b", "/srv/repo", "a:b"].map(isGitTransport)).toEqual([false, false, false]);
  });

  test("redactRemote hides passwords and tokens", () => {
    expect(redactRemote("https://user:tok@github.com/a/b")).toBe("https://user:xxxxx@github.com/a/b");
    expect(redactRemote("https://ghp_token@github.com/a/b")).toBe("https://xxxxx@github.com/a/b");
    expect(redactRemote("https://github.com/a/b")).toBe("https://github.com/a/b");
    expect(redactRemote("git@github.com:a/b")).toBe("git@github.com:a/b");
  });

  test("describeSource", () => {
    expect(describeSource({ remote: "https://x/r", ref: "", subdir: "" })).toBe("https://x/r");
    expect(describeSource({ remote: "https://x/r", ref: "nope", subdir: "" })).toBe("https://x/r#nope");
    expect(describeSource({ remote: "https://u:p@x/r", ref: "", subdir: "d" })).toBe("https://u:xxxxx@x/r#:d");
  });
});

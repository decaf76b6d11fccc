// The graphs described beside ../shared/llb-vectors, built with our client library, must
// marshal to exactly the bytes BuildKit's Go client wrote; the vectors must also decode and
// re-encode byte for byte.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { pb } from "../../../src/core/pb/index.ts";
import { sha256 } from "../../../src/core/digest.ts";
import { copy, diff, git, image, LINUX_AMD64, local, merge, mkdir, mkfile, scratch } from "../../../src/core/llb/index.ts";
import { VECTORS_DIR } from "../../paths.ts";

const OPTS = { platform: LINUX_AMD64, localUniqueId: "buildkit-ts-vectors" };
const busybox = () => image("docker.io/library/busybox:latest");

/** Each vector's graph, as INDEX.json describes it. */
const GRAPHS: Record<string, () => Uint8Array> = {
  "01-scratch-mkfile": () => scratch().file(mkfile("/hello", 0o644, "hi\n")).marshal(OPTS),
  "02-image": () => busybox().marshal(OPTS),
  "04-run-shlex": () => busybox().run({ shlex: "echo hello" }).root().marshal(OPTS),
  "05-env-dir-user": () => {
    const e = busybox().addEnv("FOO", "bar").dir("/app").user("nobody").run({ args: ["sh", "-c", "pwd > /out/x"] });
    return e.addMount("/out", scratch()).marshal(OPTS);
  },
  "06-git": () => git("github.com/opencontainers/runc", "v1.1.5", { keepGitDir: true }).marshal(OPTS),
  "07-git-https": () => git("https://github.com/containerd/containerd.git", "main").marshal(OPTS),
  "08-local": () =>
    local("context", { includePatterns: ["src/", "package.json"], excludePatterns: ["node_modules", "*.log"], sharedKeyHint: "ctx", followPaths: ["src"] }).marshal(OPTS),
  "09-mounts": () =>
    busybox()
      .run({
        shlex: "ls /src /cache /tmp",
        network: "none",
        mounts: [
          { dest: "/src", source: local("src"), readonly: true, selector: "/sub" },
          { dest: "/cache", source: scratch(), cache: { id: "gocache", sharing: "locked" } },
          { dest: "/tmp", source: scratch(), tmpfs: { size: 1048576 } },
        ],
        secrets: [{ id: "tok", dest: "/run/secrets/tok" }],
        ssh: [{ id: "default" }],
      })
      .root()
      .marshal(OPTS),
  "10-security-insecure-host": () => busybox().run({ shlex: "true", security: "insecure", network: "host" }).root().marshal(OPTS),
  "11-fileops-chain": () =>
    scratch()
      .file(mkdir("/a", 0o755, { parents: true }).mkfile("/a/b", 0o600, "x", { owner: { user: 1000, group: 1000 } }).rm("/a/c", { allowNotFound: true }))
      .marshal(OPTS),
  "12-copy": () =>
    busybox().file(copy(local("ctx"), "/src", "/app", { allowWildcard: true, createDestPath: true, copyDirContentsOnly: true, followSymlinks: true })).marshal(OPTS),
  "13-merge": () => merge([scratch().file(mkfile("/a", 0o644, "a")), scratch().file(mkfile("/b", 0o644, "b")), busybox()]).marshal(OPTS),
  "14-diff": () => diff(busybox(), busybox().run({ shlex: "touch /x" }).root()).marshal(OPTS),
  "15-multi-output": () => {
    const e = busybox().run({ shlex: `sh -c "echo a > /o1/a; echo b > /o2/b"` });
    const o1 = e.addMount("/o1", scratch());
    const o2 = e.addMount("/o2", scratch());
    return scratch().file(copy(o1, "/a", "/a").copy(o2, "/b", "/b")).marshal(OPTS);
  },
  "16-named-vertex": () => busybox().run({ shlex: "echo hi", name: "say hi" }).root().marshal(OPTS),
};

const INDEX = JSON.parse(readFileSync(`${VECTORS_DIR}/INDEX.json`, "utf8")) as { name: string }[];
const vector = (name: string) => new Uint8Array(readFileSync(`${VECTORS_DIR}/${name}.pb`));

describe("llb vectors", () => {
  test("every vector has a graph here", () => {
    expect(Object.keys(GRAPHS).sort()).toEqual(INDEX.map((v) => v.name).sort());
  });

  for (const { name } of INDEX) {
    test(`${name}: our client library marshals the same bytes`, () => {
      const build = GRAPHS[name];
      expect(build).toBeDefined();
      expect(Buffer.from(build!()).toString("hex")).toBe(Buffer.from(vector(name)).toString("hex"));
    });

    test(`${name}: decodes and re-encodes byte for byte, digests match the JSON`, () => {
      const bytes = vector(name);
      const def = pb.Definition.decode(bytes);
      expect(Buffer.from(pb.Definition.encode(def).finish()).equals(Buffer.from(bytes))).toBe(true);
      const json = JSON.parse(readFileSync(`${VECTORS_DIR}/${name}.json`, "utf8")) as { ops: { digest: string }[] };
      expect(def.def.map((op) => sha256(op))).toEqual(json.ops.map((o) => o.digest) as never);
      for (const op of def.def) expect(Buffer.from(pb.Op.encode(pb.Op.decode(op)).finish()).equals(Buffer.from(op))).toBe(true);
    });
  }
});

/**
 * Each divergence from BuildKit's Go client (client/llb, v0.11.6) that issue 12 lists, checked
 * byte for byte. The expected ops are written out field by field from what the Go code does
 * (the Go calls are named above each test); encoding them with the same protobuf schema gives
 * the bytes Go's gogo-protobuf writes (fields in order, proto3 defaults left out, a oneof
 * member written even when zero).
 */
import { describe, expect, test } from "bun:test";
import { diff, git, image, LINUX_ARM64, merge, mkdir, mkfile, scratch, type State } from "../../../src/core/llb/index.ts";
import { loadDefinition } from "../../../src/core/llb/definition.ts";
import { pb } from "../../../src/core/pb/index.ts";
import { sha256 } from "../../../src/core/digest.ts";
import { OPTS, opsOf } from "./helpers.ts";

const AMD64 = { Architecture: "amd64", OS: "linux" };
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const goBytes = (op: pb.Op.$Properties) => pb.Op.encode(op).finish();
/** The raw bytes of the op the result points at. */
function lastBytes(s: State): Uint8Array {
  const ops = opsOf(s);
  return ops[ops.length - 1]!.bytes;
}
const busyboxDigest = () => sha256(opsOf(image("busybox"))[0]!.bytes);

describe("file actions (Go: llb.Image(\"busybox\").File(llb.Mkdir(...).Mkfile(..., llb.WithUser(...))))", () => {
  const expectOwner = (owner: string, want: pb.ChownOpt.$Properties) => {
    const s = image("busybox").file(mkdir("/a", 0o755).mkfile("/a/f", 0o644, "x", { owner }));
    const go = goBytes({
      inputs: [{ digest: busyboxDigest() }],
      file: {
        actions: [
          { input: 0, secondaryInput: -1, output: -1, mkdir: { path: "/a", mode: 0o755, timestamp: -1 } },
          // The second action reads action 0's result (index 1 = one input + 0), but a named
          // owner is looked up in the base input, 0, as Go binds every action to the state.
          { input: 1, secondaryInput: -1, output: 0, mkfile: { path: "/a/f", mode: 0o644, data: new TextEncoder().encode("x"), owner: want, timestamp: -1 } },
        ],
      },
      platform: AMD64,
      constraints: {},
    });
    expect(hex(lastBytes(s))).toBe(hex(go));
  };

  test("a name owner on a later action references the base input", () => {
    expectOwner("app:staff", { user: { byName: { name: "app", input: 0 } }, group: { byName: { name: "staff", input: 0 } } });
  });

  test("root is id 0, as Go's parseUID reads it", () => {
    expectOwner("root:root", { user: { byID: 0 }, group: { byID: 0 } });
  });

  test(`"1000:" gives group id 0 (an empty name is marshalled by id)`, () => {
    expectOwner("1000:", { user: { byID: 1000 }, group: { byID: 0 } });
  });

  test("timestamps keep nanoseconds (Go: llb.WithCreatedTime(time.Unix(0, ns)))", () => {
    const ns = 1_700_000_000_123_456_789n;
    const s = scratch().file(mkfile("/f", 0o600, "", { createdTime: ns }));
    // FileActionMkFile.timestamp = 5: tag 0x28, then the int64 as a varint, exactly.
    const varint: number[] = [];
    for (let v = ns; ; v >>= 7n) {
      if (v < 0x80n) {
        varint.push(Number(v));
        break;
      }
      varint.push(Number(v & 0x7fn) | 0x80);
    }
    expect(hex(lastBytes(s))).toContain(hex(new Uint8Array([0x28, ...varint])));
  });
});

describe("merge and diff start from fresh state values (Go: NewState(op.Output()))", () => {
  const a = image("busybox").dir("/work").addEnv("A", "1").user("app");
  const b = image("alpine");
  test.each([
    ["merge", () => merge([a, b])],
    ["diff", () => diff(b, a)],
  ])("%s", (_, make) => {
    const meta = opsOf(make().run({ args: ["true"] })).at(-1)!.op.exec!.meta!;
    expect(meta.cwd).toBe("/");
    expect(meta.env).toEqual([]);
    expect(meta.user ?? "").toBe("");
  });
});

describe("an exec's own platform is the platform of states made from its outputs", () => {
  // Go: st := llb.Image("busybox").Run(llb.Shlex("true"), llb.Platform(arm64)); st.Run(...) / st.AddMount(...).
  const first = image("busybox").run({ args: ["true"], platform: LINUX_ARM64 });
  test("root", () => {
    expect(opsOf(first.root().run({ args: ["true"] })).at(-1)!.op.platform).toMatchObject({ Architecture: "arm64" });
  });
  test("addMount", () => {
    const mounted = first.addMount("/m", scratch());
    expect(opsOf(mounted.run({ args: ["true"] })).at(-1)!.op.platform).toMatchObject({ Architecture: "arm64" });
  });
});

describe("git (Go: llb.Git(remote, ref, llb.KnownSSHHosts(...)...))", () => {
  test("known hosts are trimmed, newline-terminated and accumulate", () => {
    const op = opsOf(git("git@github.com:moby/buildkit.git", "main", { knownSSHHosts: ["a ssh-ed25519 X\n", "b ssh-ed25519 Y"] })).at(-1)!.op;
    expect(op.source!.attrs!["git.knownsshhosts"]).toBe("a ssh-ed25519 X\nb ssh-ed25519 Y\n");
  });

  test("ssh://user@host:PORT/path is spelled as Go spells it", () => {
    const s = git("ssh://git@example.com:2222/org/repo.git", "main", { knownSSHHosts: "k" });
    const go = goBytes({
      source: {
        identifier: "git://example.com/2222/org/repo.git#main",
        attrs: {
          "git.authheadersecret": "GIT_AUTH_HEADER",
          "git.authtokensecret": "GIT_AUTH_TOKEN",
          "git.fullurl": "ssh://git@example.com:2222/org/repo.git",
          "git.knownsshhosts": "k\n",
          "git.mountsshsock": "default",
        },
      },
      constraints: {},
    });
    expect(hex(lastBytes(s))).toBe(hex(go));
  });
});

test("per-op export-cache option (Go: llb.WithoutExportCache())", () => {
  const s = image("busybox").run({ args: ["true"], exportCache: false }).root();
  const def = loadDefinition(s.marshal(OPTS));
  const exec = [...def.ops.values()].find((o) => o.op.exec)!;
  expect(exec.metadata?.export_cache?.Value ?? false).toBe(false);
  expect(exec.metadata?.export_cache).toBeDefined();
  expect(def.terminal!.metadata?.caps?.["meta.exportcache"]).toBe(true);
});

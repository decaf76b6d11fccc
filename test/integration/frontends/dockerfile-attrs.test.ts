// The dockerfile.v0 attributes that shape every RUN, observed from inside the steps of a
// daemonless `buildkit build --frontend dockerfile.v0 --opt …`: add-hosts in /etc/hosts,
// hostname (and BUILDKIT_SANDBOX_HOSTNAME over it), a /dev/shm tmpfs of shm-size bytes, ulimit,
// force-network-mode (RUN --network overriding it), BUILDKIT_CACHE_MOUNT_NS, image-resolve-mode
// against the worker's image store, contextsubdir on a local context, and bad values.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startBusyboxRegistry } from "../../fixtures/images.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import type { TestRegistry } from "../../fixtures/registry.ts";
import { BuildHarness } from "../build/harness.ts";

const run = requireIntegration("Dockerfile frontend attribute tests", { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry", "tar"] });
let h: BuildHarness;
let registry: TestRegistry;
let context: string;

beforeAll(async () => {
  if (!run) return;
  h = new BuildHarness();
  registry = await startBusyboxRegistry(h.temp("image"), { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] });
  context = h.temp("context");
  writeFileSync(join(context, "top.txt"), "top\n");
  mkdirSync(join(context, "sub/dir"), { recursive: true });
  writeFileSync(join(context, "sub/dir/foo"), "foo\n");
}, 120_000);
afterAll(async () => {
  await registry?.stop();
  h?.cleanup();
});

/** Builds `dockerfile` to a local directory with the given --opt values; the directory, or the failed run. */
async function build(dockerfile: string, opts: string[], extra: string[] = []) {
  const dir = h.temp("df");
  writeFileSync(join(dir, "Dockerfile"), dockerfile);
  const out = h.temp("out");
  const r = await h.build(new Uint8Array(), [
    "--frontend", "dockerfile.v0", "--local", `context=${context}`, "--local", `dockerfile=${dir}`,
    ...opts.flatMap((o) => ["--opt", o]), "--output", `type=local,dest=${out}`, ...extra,
  ]);
  if (r.code !== 0) console.log(r.stderr);
  return { ...r, out, file: (p: string) => readFileSync(join(out, p), "utf8") };
}

describe.skipIf(!run)("dockerfile.v0 attributes inside RUN, daemonless", () => {
  test("add-hosts, hostname, shm-size, ulimit and force-network-mode reach every RUN; RUN --network overrides", async () => {
    const r = await build(
      `FROM ${registry.host}/test/busybox:latest AS probe
RUN mkdir /out && cat /etc/hosts > /out/hosts && hostname > /out/hostname
RUN ulimit -Sn > /out/nofile-soft && ulimit -Hn > /out/nofile-hard
RUN grep ' /dev/shm ' /proc/mounts > /out/shm-mount && df -k /dev/shm | tail -1 | awk '{print $2}' > /out/shm-kb
RUN tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort > /out/net-forced
RUN --network=host tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort > /out/net-host
FROM scratch
COPY --from=probe /out /
`,
      ["add-hosts=MyHost=10.1.2.3,v6=2001:0DB8::0001", "hostname=plain", "build-arg:BUILDKIT_SANDBOX_HOSTNAME=from-arg", "shm-size=16777216", "ulimit=nofile=1024:2048", "force-network-mode=none"],
      ["--allow", "network.host"],
    );
    expect(r.code).toBe(0);
    expect(r.file("hosts")).toContain("10.1.2.3\tmyhost\n");
    expect(r.file("hosts")).toContain("2001:db8::1\tv6\n");
    expect(r.file("hostname")).toBe("from-arg\n");
    expect(r.file("nofile-soft")).toBe("1024\n");
    expect(r.file("nofile-hard")).toBe("2048\n");
    expect(r.file("shm-mount")).toMatch(/^\S+ \/dev\/shm tmpfs /);
    expect(r.file("shm-kb")).toBe("16384\n");
    expect(r.file("net-forced")).toBe("lo\n");
    expect(r.file("net-host").trim().split("\n").length).toBeGreaterThan(1);
  }, 180_000);

  test("BUILDKIT_CACHE_MOUNT_NS: a cache mount under a namespace is another cache than without", async () => {
    const df = `FROM ${registry.host}/test/busybox:latest
ARG MARK
RUN --mount=type=cache,target=/cache mkdir /out && (cat /cache/mark 2>/dev/null || echo none) > /out/before && echo "$MARK" > /cache/mark
`;
    const step = async (mark: string, ns?: string) => {
      const r = await build(df, [`build-arg:MARK=${mark}`, ...(ns ? [`build-arg:BUILDKIT_CACHE_MOUNT_NS=${ns}`] : [])]);
      expect(r.code).toBe(0);
      return r.file("out/before");
    };
    expect(await step("plain-1")).toBe("none\n");
    expect(await step("ns-1", "team-a")).toBe("none\n");
    expect(await step("plain-2")).toBe("plain-1\n");
    expect(await step("ns-2", "team-a")).toBe("ns-1\n");
  }, 240_000);

  test("image-resolve-mode: local takes an image from the worker's image store, pull asks the registry only", async () => {
    // An image that exists only in this root's image store, under a name no registry serves.
    const name = "127.0.0.1:9/nowhere/local-only:1";
    const dir = h.temp("img-df");
    writeFileSync(join(dir, "Dockerfile"), `FROM ${registry.host}/test/busybox:latest\nRUN echo stored > /marker\n`);
    const stored = await h.build(new Uint8Array(), ["--frontend", "dockerfile.v0", "--local", `context=${context}`, "--local", `dockerfile=${dir}`, "--output", `type=image,name=${name}`]);
    if (stored.code !== 0) console.log(stored.stderr);
    expect(stored.code).toBe(0);
    const df = `FROM ${name}\nRUN mkdir /out && cat /marker > /out/marker\n`;
    const local = await build(df, ["image-resolve-mode=local"]);
    expect(local.code).toBe(0);
    expect(local.file("out/marker")).toBe("stored\n");
    const pull = await build(df, ["image-resolve-mode=pull"]);
    expect(pull.code).toBe(1);
    expect(pull.stderr).toContain("127.0.0.1:9");
    // default: the registry first, then the image store when the registry fails.
    const fallback = await build(df, []);
    expect(fallback.code).toBe(0);
    expect(fallback.file("out/marker")).toBe("stored\n");
  }, 240_000);

  test("contextsubdir leaves a local context whole, as BuildKit v0.11.6 does", async () => {
    const r = await build("FROM scratch\nCOPY . /\n", ["contextsubdir=sub/dir"]);
    expect(r.code).toBe(0);
    expect(r.file("top.txt")).toBe("top\n");
    expect(r.file("sub/dir/foo")).toBe("foo\n");
  }, 120_000);

  test("bad values: a one-line error naming the attribute, exit 1; cgroup-parent refused", async () => {
    const df = "FROM scratch\nCOPY top.txt /\n";
    const cases: [string, string][] = [
      ["add-hosts=myhost=10.0.0", 'attribute add-hosts="myhost=10.0.0": failed to parse additional hosts: failed to parse IP 10.0.0'],
      ["shm-size=64m", 'attribute shm-size="64m": failed to parse shm size: strconv.ParseInt: parsing "64m": invalid syntax'],
      ["ulimit=nofile=2048:1024", 'attribute ulimit="nofile=2048:1024": failed to parse ulimit: ulimit soft limit must be less than or equal to hard limit: 2048 > 1024'],
      ["force-network-mode=bridge", 'attribute force-network-mode="bridge": invalid netmode bridge'],
      ["image-resolve-mode=always", 'attribute image-resolve-mode="always": invalid image-resolve-mode: always'],
      ["cgroup-parent=/build", "attribute cgroup-parent is not supported"],
    ];
    for (const [opt, message] of cases) {
      const r = await build(df, [opt]);
      expect(`${opt}: ${r.code}`).toBe(`${opt}: 1`);
      const lines = r.stderr.split("\n").filter((l) => l.includes(message));
      expect(`${opt}: ${lines.length}`).toBe(`${opt}: 1`);
    }
  }, 120_000);
});

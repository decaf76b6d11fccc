// BuildKit's buildctl asks `buildkit serve` for the Dockerfile frontend, as a BuildKit user
// would: the frontend runs in the daemon and reads the Dockerfile and .dockerignore through
// the client's session; the image config reaches the OCI tarball sent back to the client.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeBusyboxImage, pushImage } from "../../fixtures/images.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { startRegistry, type TestRegistry } from "../../fixtures/registry.ts";
import { BUN, CLI } from "../../paths.ts";
import { buildctlAvailable, ServeHarness } from "./daemon.ts";

const run =
  requireIntegration("serve with the Dockerfile frontend", { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry", "tar"] }) &&
  buildctlAvailable("serve with the Dockerfile frontend");

describe.if(run)("buildctl --frontend dockerfile.v0 against buildkit serve", () => {
  const h = new ServeHarness();
  let registry: TestRegistry | undefined;
  let context = "";
  let dockerfileDir = "";

  beforeAll(async () => {
    registry = await startRegistry();
    const layout = await makeBusyboxImage({ dir: h.temp("image"), config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] } });
    await pushImage(layout.layoutDir, `${registry.host}/test/busybox:latest`);
    context = h.temp("context");
    writeFileSync(join(context, "app.txt"), "app\n");
    writeFileSync(join(context, "secret.txt"), "do not ship\n");
    writeFileSync(join(context, ".dockerignore"), "secret.txt\n");
    dockerfileDir = h.temp("dockerfile");
    writeFileSync(
      join(dockerfileDir, "Dockerfile"),
      `FROM ${registry.host}/test/busybox:latest\nENV MODE=served\nWORKDIR /app\nCOPY . /app/\nRUN ls /app > /app/listing\nCMD ["cat", "listing"]\n`,
    );
    await h.start();
  }, 120_000);
  afterAll(async () => {
    await h.cleanup();
    await registry?.stop();
  });

  const args = (...extra: string[]) => ["build", "--frontend", "dockerfile.v0", "--local", `context=${context}`, "--local", `dockerfile=${dockerfileDir}`, ...extra];

  test("to a local directory: the RUN saw the context minus .dockerignore", async () => {
    const out = h.temp("out");
    const r = await h.buildctl(args("--output", `type=local,dest=${out}`));
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "app/listing"), "utf8").split("\n")).toEqual(["app.txt", "listing", ""]);
  });

  test("to an OCI tarball: the config carries ENV, WORKDIR and CMD", async () => {
    const file = join(h.temp("oci"), "image.tar");
    const r = await h.buildctl(args("--output", `type=oci,dest=${file}`));
    expect(r.code).toBe(0);
    const dir = h.temp("untar");
    expect(Bun.spawnSync(["tar", "-xf", file, "-C", dir]).exitCode).toBe(0);
    const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as { manifests: { digest: string }[] };
    const blob = (d: string) => readFileSync(join(dir, "blobs/sha256", d.slice(7)), "utf8");
    const manifest = JSON.parse(blob(index.manifests[0]!.digest)) as { config: { digest: string } };
    const config = JSON.parse(blob(manifest.config.digest)) as { config: { Env: string[]; WorkingDir: string; Cmd: string[] } };
    expect(config.config.Env).toContain("MODE=served");
    expect(config.config.WorkingDir).toBe("/app");
    expect(config.config.Cmd).toEqual(["cat", "listing"]);
  });

  test("--export-cache type=inline through the Control API: the OCI tarball's config carries the inline cache", async () => {
    const file = join(h.temp("oci-inline"), "image.tar");
    const r = await h.buildctl(args("--output", `type=oci,dest=${file}`, "--export-cache", "type=inline"));
    expect(r.code).toBe(0);
    const dir = h.temp("untar-inline");
    expect(Bun.spawnSync(["tar", "-xf", file, "-C", dir]).exitCode).toBe(0);
    const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as { manifests: { digest: string }[] };
    const blob = (d: string) => readFileSync(join(dir, "blobs/sha256", d.slice(7)), "utf8");
    const manifest = JSON.parse(blob(index.manifests[0]!.digest)) as { config: { digest: string }; layers: unknown[] };
    const config = JSON.parse(blob(manifest.config.digest)) as Record<string, unknown>;
    const records = JSON.parse(Buffer.from(String(config["moby.buildkit.cache.v0"]), "base64").toString("utf8")) as { layers?: { layer: number }[] }[];
    // The final step's result is the whole image.
    expect(records.flatMap((rec) => (rec.layers ?? []).map((l) => l.layer))).toContain(manifest.layers.length - 1);
  });

  test("our client asks the daemon for the frontend too (build --addr --frontend)", async () => {
    const out = h.temp("ours");
    const p = Bun.spawn(
      [BUN, CLI, "build", "--addr", h.addr, "--progress", "plain", "--frontend", "dockerfile.v0", "--local", `context=${context}`, "--local", `dockerfile=${dockerfileDir}`, "--output", `type=local,dest=${out}`],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, BUILDKIT_HOST: "" } },
    );
    const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    expect(stderr).toContain("[4/4] RUN ls /app > /app/listing");
    expect(code).toBe(0);
    expect(readFileSync(join(out, "app/listing"), "utf8")).toBe("app.txt\nlisting\n");
  });

  test("the context's record is a source.local one (du --filter, GC's first rule), though its vertex has a custom name", async () => {
    const r = await h.buildctl(["du", "-v", "--filter", "type==source.local"]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/Description:\s+\[internal\] load build context\n/);
    expect(r.stdout.toString()).toMatch(/Type:\s+source\.local\n/);
  });

  test("frontend attributes reach the RUN: add-hosts, hostname, shm-size, ulimit, force-network-mode, cache namespace", async () => {
    const dir = h.temp("attrs");
    writeFileSync(
      join(dir, "Dockerfile"),
      `FROM ${registry!.host}/test/busybox:latest
RUN --mount=type=cache,target=/cache mkdir /out && cat /etc/hosts > /out/hosts && hostname > /out/hostname && ulimit -Hn > /out/nofile && df -k /dev/shm | tail -1 | awk '{print $2}' > /out/shm-kb && tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' > /out/net && (cat /cache/mark 2>/dev/null || echo none) > /out/before && echo served > /cache/mark
`,
    );
    const opts = ["add-hosts=served=10.9.8.7", "hostname=served-host", "shm-size=8388608", "ulimit=nofile=512:1024", "force-network-mode=none", "build-arg:BUILDKIT_CACHE_MOUNT_NS=serve-ns"];
    const out = h.temp("attrs-out");
    const r = await h.buildctl(["build", "--frontend", "dockerfile.v0", "--local", `context=${context}`, "--local", `dockerfile=${dir}`, ...opts.flatMap((o) => ["--opt", o]), "--output", `type=local,dest=${out}`]);
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);
    const file = (p: string) => readFileSync(join(out, "out", p), "utf8");
    expect(file("hosts")).toContain("10.9.8.7\tserved\n");
    expect(file("hostname")).toBe("served-host\n");
    expect(file("nofile")).toBe("1024\n");
    expect(file("shm-kb")).toBe("8192\n");
    expect(file("net")).toBe("lo\n");
    expect(file("before")).toBe("none\n");
    const bad = await h.buildctl(["build", "--frontend", "dockerfile.v0", "--local", `context=${context}`, "--local", `dockerfile=${dir}`, "--opt", "ulimit=bogus=1"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('attribute ulimit="bogus=1": failed to parse ulimit: invalid ulimit type: bogus');
  });

  test("a Dockerfile error names the line", async () => {
    const bad = h.temp("bad");
    writeFileSync(join(bad, "Dockerfile"), "FROM scratch\nFOO bar\n");
    const r = await h.buildctl(["build", "--frontend", "dockerfile.v0", "--local", `context=${context}`, "--local", `dockerfile=${bad}`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("Dockerfile:2");
  });
});

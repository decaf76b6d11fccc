// `buildkit build --frontend dockerfile.v0` as a user runs it: a multi-stage Dockerfile over a
// busybox image on a 127.0.0.1 registry, exported as an OCI tarball whose config is the
// Dockerfile's; .dockerignore, build args, --target and line-numbered errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeBusyboxImage, pushImage, startBusyboxRegistry } from "../../fixtures/images.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { startRegistry, type TestRegistry } from "../../fixtures/registry.ts";
import { BuildHarness } from "../build/harness.ts";

const run = requireIntegration("Dockerfile frontend build tests", { runc: true, busybox: true, tools: ["skopeo", "/usr/bin/docker-registry", "tar"] });
let h: BuildHarness;
let registry: TestRegistry;
let context: string;
let dockerfileDir: string;

const dockerfile = (reg: string) => `# a multi-stage build
FROM ${reg}/test/busybox:latest AS build
ARG GREETING=hello
RUN mkdir /out && echo "$GREETING" > /out/greeting
COPY app.txt /out/

FROM ${reg}/test/busybox:latest
ENV APP_HOME=/app MODE=prod
WORKDIR /app
COPY --from=build /out/ ./
COPY . /ctx/
USER nobody
LABEL org.example.name=demo
EXPOSE 8080
CMD ["cat", "greeting"]
`;

beforeAll(async () => {
  if (!run) return;
  h = new BuildHarness();
  registry = await startBusyboxRegistry(h.temp("image"), { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] });
  context = h.temp("context");
  writeFileSync(join(context, "app.txt"), "app\n");
  writeFileSync(join(context, "secret.txt"), "do not ship\n");
  mkdirSync(join(context, "logs"));
  writeFileSync(join(context, "logs/a.log"), "log\n");
  writeFileSync(join(context, "keep.log"), "kept by !keep.log\n");
  writeFileSync(join(context, ".dockerignore"), "# comment\nsecret.txt\n**/*.log\n!keep.log\n");
  dockerfileDir = h.temp("dockerfile");
  writeFileSync(join(dockerfileDir, "Dockerfile"), dockerfile(registry.host));
}, 120_000);
afterAll(async () => {
  await registry?.stop();
  h?.cleanup();
});

const frontendArgs = (...extra: string[]) => ["--frontend", "dockerfile.v0", "--local", `context=${context}`, "--local", `dockerfile=${dockerfileDir}`, ...extra];

/** Files of an OCI tarball, by name. */
function untar(file: string): Map<string, Buffer> {
  const dir = h.temp("untar");
  const p = Bun.spawnSync(["tar", "-xf", file, "-C", dir]);
  if (p.exitCode !== 0) throw new Error(`untar: ${p.stderr.toString()}`);
  const names = Bun.spawnSync(["tar", "-tf", file]).stdout.toString().split("\n").filter((n) => n && !n.endsWith("/"));
  return new Map(names.map((n) => [n, readFileSync(join(dir, n))]));
}
const blob = (files: Map<string, Buffer>, digest: string) => files.get(`blobs/sha256/${digest.slice(7)}`)!;
const layerFiles = (gz: Buffer): string[] => {
  const p = Bun.spawnSync(["tar", "-tzf", "-"], { stdin: gz });
  return p.stdout.toString().split("\n").filter(Boolean);
};

describe.skipIf(!run)("dockerfile.v0 frontend, daemonless", () => {
  test("multi-stage build to an OCI tarball: the config has the Dockerfile's settings; .dockerignore honoured", async () => {
    const tarball = join(h.temp("oci"), "image.tar");
    const r = await h.build(new Uint8Array(), frontendArgs("--output", `type=oci,dest=${tarball}`));
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    const files = untar(tarball);
    const index = JSON.parse(files.get("index.json")!.toString()) as { manifests: { digest: string }[] };
    const manifest = JSON.parse(blob(files, index.manifests[0]!.digest).toString()) as { config: { digest: string }; layers: { digest: string }[] };
    const config = JSON.parse(blob(files, manifest.config.digest).toString()) as {
      config: Record<string, unknown>;
      rootfs: { diff_ids: string[] };
      history: { created_by: string; empty_layer?: boolean; created?: string }[];
    };
    if (process.env.SHOW_CONFIG) console.log(blob(files, manifest.config.digest).toString());
    expect(config.config.Env).toEqual(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "APP_HOME=/app", "MODE=prod"]);
    expect(config.config.Cmd).toEqual(["cat", "greeting"]);
    expect(config.config.WorkingDir).toBe("/app");
    expect(config.config.User).toBe("nobody");
    expect(config.config.Labels).toEqual({ "org.example.name": "demo" });
    expect(config.config.ExposedPorts).toEqual({ "8080/tcp": {} });
    // History: one entry per instruction of the final stage, layers marked as such.
    // (BuildKit's history names a COPY --from without its --from.)
    const ours = config.history.slice(-8).map((e) => `${e.created_by}${e.empty_layer ? " (empty)" : ""}`);
    expect(ours).toEqual([
      "ENV APP_HOME=/app MODE=prod (empty)",
      "WORKDIR /app",
      "COPY /out/ ./ # buildkit",
      "COPY . /ctx/ # buildkit",
      "USER nobody (empty)",
      "LABEL org.example.name=demo (empty)",
      "EXPOSE map[8080/tcp:{}] (empty)",
      'CMD ["cat" "greeting"] (empty)',
    ]);
    expect(config.history.every((e) => typeof e.created === "string")).toBe(true);
    expect(config.rootfs.diff_ids.length).toBe(manifest.layers.length);
    expect(config.history.filter((e) => !e.empty_layer).length).toBe(manifest.layers.length);
    // The image's files: the build stage's output and the context minus .dockerignore's.
    const all = manifest.layers.flatMap((l) => layerFiles(blob(files, l.digest)));
    expect(all).toContain("app/greeting");
    expect(all).toContain("app/app.txt");
    expect(all).toContain("ctx/app.txt");
    expect(all).toContain("ctx/keep.log");
    expect(all).not.toContain("ctx/secret.txt");
    expect(all).not.toContain("ctx/logs/a.log");
  }, 180_000);

  test("--opt target picks a stage and --opt build-arg: changes a RUN's output", async () => {
    const plain = h.temp("out");
    const a = await h.build(new Uint8Array(), frontendArgs("--opt", "target=build", "--output", `type=local,dest=${plain}`));
    if (a.code !== 0) console.log(a.stderr);
    expect(a.code).toBe(0);
    expect(readFileSync(join(plain, "out/greeting"), "utf8")).toBe("hello\n");
    expect(readFileSync(join(plain, "out/app.txt"), "utf8")).toBe("app\n");
    const withArg = h.temp("out");
    const b = await h.build(new Uint8Array(), frontendArgs("--opt", "target=build", "--opt", "build-arg:GREETING=bonjour", "--output", `type=local,dest=${withArg}`));
    expect(b.code).toBe(0);
    expect(readFileSync(join(withArg, "out/greeting"), "utf8")).toBe("bonjour\n");
  }, 180_000);

  test("build-arg:SOURCE_DATE_EPOCH dates the image's history and config, and the files of a local output", async () => {
    const tarball = join(h.temp("sde"), "image.tar");
    const epoch = "2001-09-09T01:46:40Z";
    const r = await h.build(new Uint8Array(), frontendArgs("--opt", "build-arg:SOURCE_DATE_EPOCH=1000000000", "--output", `type=oci,dest=${tarball}`));
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    const files = untar(tarball);
    const index = JSON.parse(files.get("index.json")!.toString()) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    expect(index.manifests[0]?.annotations["org.opencontainers.image.created"]).toBe(epoch);
    const manifest = JSON.parse(blob(files, index.manifests[0]!.digest).toString()) as { config: { digest: string } };
    const config = JSON.parse(blob(files, manifest.config.digest).toString()) as { created: string; history: { created?: string }[] };
    expect(config.created).toBe(epoch);
    // The Dockerfile's entries are dated the epoch by the frontend; the base image's are clamped to it by the exporter.
    expect(config.history.map((e) => e.created)).toEqual(config.history.map(() => epoch));
    const out = h.temp("sde-local");
    const l = await h.build(new Uint8Array(), frontendArgs("--opt", "target=build", "--opt", "build-arg:SOURCE_DATE_EPOCH=1000000000", "--output", `type=local,dest=${out}`));
    expect(l.code).toBe(0);
    expect(statSync(join(out, "out/greeting")).mtimeMs).toBe(1000000000 * 1000);
    const bad = await h.build(new Uint8Array(), frontendArgs("--opt", "build-arg:SOURCE_DATE_EPOCH=yesterday"));
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split("\n").pop()).toBe('error: dockerfile frontend: attribute build-arg:SOURCE_DATE_EPOCH="yesterday": invalid SOURCE_DATE_EPOCH: strconv.ParseInt: parsing "yesterday": invalid syntax');
  });

  test("a FROM pinned by digest needs no registry once pulled: the frontend reads the config from the content store", async () => {
    const own = await startRegistry();
    try {
      const layout = await makeBusyboxImage({ dir: h.temp("pinned-image") });
      await pushImage(layout.layoutDir, `${own.host}/test/pinned:latest`);
      const dir = h.temp("pinned");
      writeFileSync(join(dir, "Dockerfile"), `FROM ${own.host}/test/pinned@${layout.digest}\nRUN echo pinned > /p\n`);
      const args = ["--frontend", "dockerfile.v0", "--local", `context=${context}`, "--local", `dockerfile=${dir}`];
      expect((await h.build(new Uint8Array(), args)).code).toBe(0);
      await own.stop();
      const again = await h.build(new Uint8Array(), args);
      if (again.code !== 0) console.log(again.stderr);
      expect(again.code).toBe(0);
      expect(again.stderr).toContain("[internal] load metadata for");
      expect(again.stderr).toMatch(/RUN echo pinned > \/p\n#\d+ CACHED/);
    } finally {
      await own.stop();
    }
  });

  test("--opt filename picks another Dockerfile in the dockerfile local", async () => {
    writeFileSync(join(dockerfileDir, "Other.Dockerfile"), `FROM ${registry.host}/test/busybox:latest\nRUN mkdir /o && echo other > /o/which\n`);
    const out = h.temp("out");
    const r = await h.build(new Uint8Array(), frontendArgs("--opt", "filename=Other.Dockerfile", "--output", `type=local,dest=${out}`));
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "o/which"), "utf8")).toBe("other\n");
  }, 180_000);

  test("a Dockerfile error names the line and exits 1; a missing Dockerfile and an unknown frontend are reported", async () => {
    const bad = h.temp("bad");
    writeFileSync(join(bad, "Dockerfile"), "FROM scratch\nCOPY a b\nFROB it\n");
    const r = await h.build(new Uint8Array(), ["--frontend", "dockerfile.v0", "--local", `context=${context}`, "--local", `dockerfile=${bad}`]);
    expect(r.code).toBe(1);
    if (process.env.SHOW_CONFIG) console.log(r.stderr);
    expect(r.stderr).toMatch(/error: dockerfile parse error on line 3: unknown instruction: FROB \(did you mean FROM\?\)/);
    const missing = await h.build(new Uint8Array(), ["--frontend", "dockerfile.v0", "--local", `context=${context}`, "--local", `dockerfile=${h.temp("empty")}`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('reading dockerfile: Dockerfile not found in local "dockerfile"');
    const unknown = await h.build(new Uint8Array(), ["--frontend", "gateway.v9"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown frontend");
  }, 60_000);
});

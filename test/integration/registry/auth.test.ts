// htpasswd auth over TLS with a self-signed CA, against docker-registry: no credentials, wrong
// credentials and right ones (from a temporary DOCKER_CONFIG), and TLS verification itself.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "../../../src/core/digest.ts";
import { createRegistryClient } from "../../../src/core/registry/index.ts";
import type { RegistryConfig } from "../../../src/core/registry/index.ts";
import { makeBusyboxImage, pushImage } from "../../fixtures/images.ts";
import type { ImageLayout } from "../../fixtures/images.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { REGISTRY_BIN, startRegistry } from "../../fixtures/registry.ts";
import type { TestRegistry } from "../../fixtures/registry.ts";

const enabled = requireIntegration("registry auth tests", { tools: [REGISTRY_BIN, "skopeo", "openssl", "htpasswd", "tar", "/bin/busybox"] });
const amd64 = { os: "linux", architecture: "amd64" };
const USER = { user: "alice", password: "s3cret-pw" };
const signal = (): AbortSignal => AbortSignal.timeout(30_000);

describe.skipIf(!enabled)("registry auth over TLS", () => {
  let registry: TestRegistry;
  let work: string;
  let image: ImageLayout;
  let config: RegistryConfig;

  /** A DOCKER_CONFIG directory with these credentials for the registry. */
  const dockerConfig = (name: string, user: string, password: string): string => {
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    const auth = Buffer.from(`${user}:${password}`).toString("base64");
    writeFileSync(join(dir, "config.json"), JSON.stringify({ auths: { [registry.host]: { auth } } }));
    return dir;
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "bk-auth-test-"));
    registry = await startRegistry({ auth: USER, tls: true });
    image = await makeBusyboxImage({ dir: join(work, "image"), platforms: [amd64] });
    await pushImage(image.layoutDir, `${registry.host}/private/busybox:latest`, { tls: { caFile: registry.caFile ?? "" }, creds: USER });
    config = { [registry.host]: { ca: [registry.caFile ?? ""] } };
  }, 60_000);

  afterAll(async () => {
    await registry?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("no credentials: a clear 401", async () => {
    const client = createRegistryClient({ config, dockerConfigDir: join(work, "empty") });
    await expect(client.resolve(`${registry.host}/private/busybox:latest`, amd64, signal())).rejects.toMatchObject({
      code: "FailedPrecondition",
      message: `resolving image ${registry.host}/private/busybox:latest: 401 Unauthorized: authentication required (no credentials for ${registry.host})`,
    });
  });

  test("wrong credentials: rejected, said so", async () => {
    const client = createRegistryClient({ config, dockerConfigDir: dockerConfig("wrong", USER.user, "nope") });
    await expect(client.resolve(`${registry.host}/private/busybox:latest`, amd64, signal())).rejects.toThrow(
      `resolving image ${registry.host}/private/busybox:latest: 401 Unauthorized: authentication required (credentials for ${registry.host} were rejected)`,
    );
  });

  test("right credentials from DOCKER_CONFIG: resolve and fetch", async () => {
    const dir = dockerConfig("right", USER.user, USER.password);
    const saved = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = dir;
    try {
      const client = createRegistryClient({ config });
      const got = await client.resolve(`${registry.host}/private/busybox:latest`, amd64, signal());
      expect(got.digest).toBe(image.digest);
      const layer = got.manifest.layers[0];
      if (!layer) throw new Error("no layer");
      const bytes = new Uint8Array(await new Response(await client.fetchBlob(`${registry.host}/private/busybox`, layer, signal())).arrayBuffer());
      expect(sha256(bytes)).toBe(layer.digest);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved;
    }
  });

  test("TLS: unknown CA refused; insecure = true skips verification", async () => {
    const dir = dockerConfig("tls", USER.user, USER.password);
    const strict = createRegistryClient({ config: { [registry.host]: { http: false } }, dockerConfigDir: dir });
    await expect(strict.resolve(`${registry.host}/private/busybox:latest`, amd64, signal())).rejects.toThrow(
      `resolving image ${registry.host}/private/busybox:latest: connecting to ${registry.host}: tls: unable to verify the first certificate`,
    );
    const insecure = createRegistryClient({ config: { [registry.host]: { insecure: true } }, dockerConfigDir: dir });
    expect((await insecure.resolve(`${registry.host}/private/busybox:latest`, amd64, signal())).digest).toBe(image.digest);
  });
});

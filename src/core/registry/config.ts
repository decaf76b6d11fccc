/**
 * The `[registry."HOST"]` sections of buildkitd.toml, in BuildKit's format:
 *
 *   [registry."127.0.0.1:5000"]
 *     http = true                     # plain HTTP
 *     insecure = true                 # TLS without verifying the certificate
 *     mirrors = ["127.0.0.1:5001"]    # tried in order before the host itself, for pulls
 *     ca = ["/etc/certs/ca.pem"]      # extra CA certificates
 *     [[registry."127.0.0.1:5000".keypair]]
 *       key = "/etc/certs/client.key"
 *       cert = "/etc/certs/client.pem"
 *
 * Other sections and keys are left to their owners.
 */
import { readFile } from "node:fs/promises";
import { BuildkitError } from "../errors.ts";

export interface RegistryKeyPair {
  readonly key: string;
  readonly cert: string;
}

export interface RegistryHostConfig {
  /** Plain HTTP. Unset on a loopback host means plain HTTP unless `ca` or `insecure` is set. */
  readonly http?: boolean;
  /** TLS without certificate verification (falls back to plain HTTP when `http` is unset). */
  readonly insecure?: boolean;
  /** Mirror hosts (optionally with a path), tried in order before the host itself for pulls. */
  readonly mirrors?: readonly string[];
  /** CA certificate files (PEM) trusted besides the system's. */
  readonly ca?: readonly string[];
  /** Client certificates for mutual TLS. */
  readonly keypair?: readonly RegistryKeyPair[];
}

/** Registry settings by host ("docker.io", "127.0.0.1:5000"). */
export type RegistryConfig = Readonly<Record<string, RegistryHostConfig>>;

function invalid(source: string, why: string): BuildkitError {
  return new BuildkitError("InvalidArgument", `reading registry config ${source}: ${why}`);
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optBool(table: Record<string, unknown>, key: string, where: string): boolean | undefined {
  const value = table[key];
  if (value === undefined || typeof value === "boolean") return value;
  throw invalid(where, `${key} must be true or false`);
}

function optStrings(table: Record<string, unknown>, key: string, where: string): string[] | undefined {
  const value = table[key];
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  throw invalid(where, `${key} must be a list of strings`);
}

function keyPairs(table: Record<string, unknown>, where: string): RegistryKeyPair[] | undefined {
  const value = table.keypair;
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  return list.map((kp) => {
    if (!isTable(kp) || typeof kp.key !== "string" || typeof kp.cert !== "string") throw invalid(where, "keypair needs key and cert");
    return { key: kp.key, cert: kp.cert };
  });
}

function hostConfig(table: unknown, where: string): RegistryHostConfig {
  if (!isTable(table)) throw invalid(where, "not a table");
  const out: { -readonly [K in keyof RegistryHostConfig]: RegistryHostConfig[K] } = {};
  const http = optBool(table, "http", where);
  const insecure = optBool(table, "insecure", where);
  const mirrors = optStrings(table, "mirrors", where);
  const ca = optStrings(table, "ca", where);
  const keypair = keyPairs(table, where);
  if (http !== undefined) out.http = http;
  if (insecure !== undefined) out.insecure = insecure;
  if (mirrors !== undefined) out.mirrors = mirrors;
  if (ca !== undefined) out.ca = ca;
  if (keypair !== undefined) out.keypair = keypair;
  return out;
}

/** The registry config from an already parsed buildkitd.toml document. */
export function registryConfigFromToml(doc: unknown, source = "buildkitd.toml"): RegistryConfig {
  if (!isTable(doc)) throw invalid(source, "not a table");
  const registry = doc.registry;
  if (registry === undefined) return {};
  if (!isTable(registry)) throw invalid(source, "registry must be a table of hosts");
  const out: Record<string, RegistryHostConfig> = {};
  for (const [host, table] of Object.entries(registry)) out[host] = hostConfig(table, `${source} (registry."${host}")`);
  return out;
}

/** Parses buildkitd.toml text and returns its registry sections. */
export function parseRegistryConfig(text: string, source = "buildkitd.toml"): RegistryConfig {
  let doc: unknown;
  try {
    doc = Bun.TOML.parse(text);
  } catch (err) {
    throw invalid(source, err instanceof Error ? err.message : String(err));
  }
  return registryConfigFromToml(doc, source);
}

export async function loadRegistryConfig(path: string): Promise<RegistryConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new BuildkitError("InvalidArgument", `reading registry config ${path}: ${(err as Error).message}`);
  }
  return parseRegistryConfig(text, path);
}

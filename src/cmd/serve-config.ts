// The daemon's settings from buildkitd.toml, in BuildKit's format: the global `root` and
// `insecure-entitlements`, `[grpc] address` and `[grpc.tls]`, `[worker.oci] gc`,
// `gckeepstorage` (bytes) and `binary` (the OCI runtime: runc, crun or a path), `[history]
// maxAge` (seconds) and `maxEntries`. The `[registry."HOST"]` sections are read by the registry client.
import { readFileSync } from "node:fs";
import { UsageError } from "./exit.ts";

export interface ServeFileConfig {
  readonly root?: string;
  readonly addresses: readonly string[];
  readonly tls?: { readonly cert?: string; readonly key?: string; readonly ca?: string };
  readonly insecureEntitlements: readonly string[];
  /** false: `[worker.oci] gc = false`. */
  readonly gc: boolean;
  readonly gcKeepStorage?: number;
  /** `[worker.oci] binary`: runc, crun or a path. */
  readonly ociRuntime?: string;
  /** `[history] maxAge` (seconds) and `maxEntries`: how much build history is kept. */
  readonly history?: { readonly maxAgeMs?: number; readonly maxEntries?: number };
}

type Table = Record<string, unknown>;

const isTable = (v: unknown): v is Table => typeof v === "object" && v !== null && !Array.isArray(v);

function strings(value: unknown, what: string, path: string): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  throw new UsageError(`--config ${path}: ${what} must be a list of strings`);
}

function optString(table: Table, key: string, what: string, path: string): string | undefined {
  const v = table[key];
  if (v === undefined || typeof v === "string") return v;
  throw new UsageError(`--config ${path}: ${what} must be a string`);
}

function ociBinary(worker: Table, path: string): { ociRuntime?: string } {
  const binary = optString(worker, "binary", "worker.oci.binary", path);
  if (binary === undefined) return {};
  if (binary !== "runc" && binary !== "crun" && !binary.includes("/")) throw new UsageError(`--config ${path}: worker.oci.binary must be runc, crun or a path, not ${JSON.stringify(binary)}`);
  return { ociRuntime: binary };
}

/** Reads and checks the file; a missing, unreadable or malformed file is a usage error naming it. */
export function readServeConfig(path: string): ServeFileConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`--config ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = Bun.TOML.parse(text);
  } catch (err) {
    throw new UsageError(`--config ${path}: ${(err as Error).message}`);
  }
  if (!isTable(doc)) throw new UsageError(`--config ${path}: not a TOML table`);
  const grpc = isTable(doc.grpc) ? doc.grpc : {};
  const tls = isTable(grpc.tls) ? grpc.tls : undefined;
  const worker = isTable(doc.worker) && isTable(doc.worker.oci) ? doc.worker.oci : {};
  const keep = worker.gckeepstorage;
  if (keep !== undefined && (typeof keep !== "number" || keep < 0)) throw new UsageError(`--config ${path}: worker.oci.gckeepstorage must be a number of bytes`);
  if (worker.gc !== undefined && typeof worker.gc !== "boolean") throw new UsageError(`--config ${path}: worker.oci.gc must be true or false`);
  return {
    root: optString(doc, "root", "root", path),
    addresses: strings(grpc.address, "grpc.address", path),
    ...(tls ? { tls: { cert: optString(tls, "cert", "grpc.tls.cert", path), key: optString(tls, "key", "grpc.tls.key", path), ca: optString(tls, "ca", "grpc.tls.ca", path) } } : {}),
    insecureEntitlements: strings(doc["insecure-entitlements"], "insecure-entitlements", path),
    gc: worker.gc !== false,
    ...(typeof keep === "number" ? { gcKeepStorage: keep } : {}),
    ...ociBinary(worker, path),
    ...historyConfig(doc, path),
  };
}

function historyConfig(doc: Table, path: string): Pick<ServeFileConfig, "history"> {
  if (doc.history === undefined) return {};
  if (!isTable(doc.history)) throw new UsageError(`--config ${path}: history must be a table`);
  const count = (key: string): number | undefined => {
    const v = (doc.history as Table)[key];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new UsageError(`--config ${path}: history.${key} must be a whole number`);
    return v;
  };
  const maxAge = count("maxAge");
  const maxEntries = count("maxEntries");
  return { history: { ...(maxAge !== undefined ? { maxAgeMs: maxAge * 1000 } : {}), ...(maxEntries !== undefined ? { maxEntries } : {}) } };
}

/**
 * Attribute values read as BuildKit v0.11.6's frontend/dockerfile/builder/build.go reads them
 * (parseResolveMode, parseExtraHosts, parseShmSize, parseUlimits, parseNetMode), with its error
 * wording. Each throws a plain Error; attrs.ts names the attribute.
 */
import type { HostIP, NetMode, ResolveMode, Ulimit } from "../../llb/index.ts";
import { readGoCsvRecord } from "../../go-csv.ts";
import { formatGoIP, parseGoIP } from "./go-ip.ts";

/** `image-resolve-mode`: default | pull | local (pb.AttrImageResolveMode*). */
export function parseResolveMode(v: string): ResolveMode {
  if (v === "" || v === "default") return "default";
  if (v === "pull" || v === "local") return v;
  throw new Error(`invalid image-resolve-mode: ${v}`);
}

/** `add-hosts`: `host=ip,…`, both lower-cased; the address as Go's net.IP prints it (the LLB carries that). */
export function parseExtraHosts(v: string): HostIP[] {
  if (v === "") return [];
  return readGoCsvRecord(v).map((field) => {
    const eq = field.indexOf("=");
    if (eq < 0) throw new Error(`invalid key-value pair ${field}`);
    const host = field.slice(0, eq).toLowerCase();
    const val = field.slice(eq + 1).toLowerCase();
    const ip = parseGoIP(val);
    if (!ip) throw new Error(`failed to parse IP ${val}`);
    return { host, ip: formatGoIP(ip) };
  });
}

/** `shm-size`: bytes, a decimal integer (0 or unset: no /dev/shm mount). */
export function parseShmSize(v: string): number {
  return v === "" ? 0 : parseGoInt64(v);
}

/** `ulimit`: `name=soft[:hard],…` as docker/go-units ParseUlimit reads each. */
export function parseUlimits(v: string): Ulimit[] {
  if (v === "") return [];
  return readGoCsvRecord(v).map(parseUlimit);
}

/** `force-network-mode`: none | host | sandbox (the default). */
export function parseNetMode(v: string): NetMode {
  if (v === "" || v === "sandbox") return "sandbox";
  if (v === "none" || v === "host") return v;
  throw new Error(`invalid netmode ${v}`);
}

const ULIMIT_NAMES = new Set(["core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"]);

/** go-units ParseUlimit: the hard limit defaults to the soft one; -1 is unlimited. */
export function parseUlimit(val: string): Ulimit {
  const eq = val.indexOf("=");
  if (eq < 0) throw new Error(`invalid ulimit argument: ${val}`);
  const name = val.slice(0, eq);
  if (!ULIMIT_NAMES.has(name)) throw new Error(`invalid ulimit type: ${name}`);
  const limits = val.slice(eq + 1).split(":");
  if (limits.length > 2) throw new Error(`too many limit value arguments - ${val.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const hardGiven = limits.length === 2 ? parseGoInt64(limits[1]!) : undefined;
  const soft = parseGoInt64(limits[0]!);
  const hard = hardGiven ?? soft;
  if (hard !== -1) {
    if (soft === -1) throw new Error(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${hard}`);
    if (soft > hard) throw new Error(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  }
  return { name, soft, hard };
}

/**
 * strconv.ParseInt(v, 10, 64), limited to what a JS number holds exactly (2^53 − 1, far above
 * any byte size or limit in use); beyond it, a clear error rather than a rounded value.
 */
export function parseGoInt64(v: string): number {
  if (!/^[+-]?\d+$/.test(v)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const big = BigInt(v);
  if (big > 9223372036854775807n || big < -9223372036854775808n) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new Error(`${v} is beyond ${Number.MAX_SAFE_INTEGER}, the largest value this implementation carries exactly`);
  }
  return Number(big);
}

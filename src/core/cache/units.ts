// Sizes and durations as people type and read them: `--keep-storage 10GB`, `--keep-duration 24h`,
// `1.23MB`, `5 minutes ago`. Sizes use SI units (kB = 1000 B, as `buildctl du` prints them);
// KiB/MiB/GiB/TiB are accepted for powers of 1024.
import { BuildkitError } from "../errors.ts";

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  ki: 2 ** 10,
  kib: 2 ** 10,
  mi: 2 ** 20,
  mib: 2 ** 20,
  gi: 2 ** 30,
  gib: 2 ** 30,
  ti: 2 ** 40,
  tib: 2 ** 40,
};

/**
 * Bytes in "10GB", "512MB", "1.5GiB", "4096B". A bare number is in `bareUnit` bytes (1: bytes;
 * `buildkit prune --keep-storage` passes 1e6, since buildctl takes megabytes there).
 */
export function parseSize(text: string, bareUnit = 1): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m?.[2] === "" ? bareUnit : SIZE_UNITS[(m?.[2] ?? "").toLowerCase()];
  if (!m || unit === undefined) {
    throw new BuildkitError("InvalidArgument", `parsing size ${JSON.stringify(text)}: expected a number with an optional unit (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)`);
  }
  return Math.round(Number(m[1]) * unit);
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1e3,
  m: 60e3,
  h: 3600e3,
  d: 86400e3,
  w: 7 * 86400e3,
};

/** Milliseconds in a Go-style duration ("24h", "1h30m", "90s", "2d"); a bare number is seconds. */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1e3;
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w)/g)];
  if (t === "" || parts.map((p) => p[0]).join("") !== t) {
    throw new BuildkitError("InvalidArgument", `parsing duration ${JSON.stringify(text)}: expected a duration such as 24h, 1h30m, 90s or 2d`);
  }
  return parts.reduce((ms, p) => ms + Number(p[1]) * (DURATION_UNITS[p[2] ?? ""] ?? 0), 0);
}

/** "0B", "512B", "1.23kB", "54.29MB", "2.30GB". */
export function formatSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let value = bytes;
  let i = 0;
  while (Math.abs(value) >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return i === 0 ? `${value}B` : `${value.toFixed(2)}${units[i]}`;
}

/**
 * %g of tonistiigi/units.Bytes, as buildctl prints GC limits: decimal units, the shortest
 * figure that is exact ("512MB", "26.5GB"); whole bytes under 1kB ("512B").
 */
export function formatBytesG(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
  let base = 1;
  let i = 0;
  while (i < units.length - 1 && Math.abs(bytes) >= base * 1000) {
    base *= 1000;
    i++;
  }
  return `${i === 0 ? bytes : bytes / base}${units[i]}`;
}

const SPANS: readonly (readonly [string, number])[] = [
  ["year", 365 * 86400e3],
  ["month", 30 * 86400e3],
  ["week", 7 * 86400e3],
  ["day", 86400e3],
  ["hour", 3600e3],
  ["minute", 60e3],
  ["second", 1e3],
];

/** "5 minutes ago", "1 hour ago", "less than a second ago". */
export function formatAgo(time: number, now: number): string {
  const elapsed = Math.max(0, now - time);
  for (const [name, ms] of SPANS) {
    const n = Math.floor(elapsed / ms);
    if (n >= 1) return `${n} ${name}${n === 1 ? "" : "s"} ago`;
  }
  return "less than a second ago";
}

/**
 * Platform matching as containerd's `platforms.Only` does it: a platform matches itself and the
 * platforms it can run (arm64 → arm/v8…v5, arm/v7 → v6, v5, amd64 → 386), and the closer match
 * wins when an index offers several.
 */
import type { Platform } from "../llb/platform.ts";
import type { OciPlatform } from "../image/oci-types.ts";

export interface PlatformMatcher {
  match(p: Platform): boolean;
  /** Whether a is preferred over b (both matching). */
  less(a: Platform, b: Platform): boolean;
}

/** Normalises os, architecture and variant the way containerd does (arm → arm/v7, aarch64 → arm64…). */
export function normalizePlatform(p: Platform): Platform {
  let os = p.os.toLowerCase();
  if (os === "macos") os = "darwin";
  const [architecture, variant] = normalizeArch(p.architecture, p.variant ?? "");
  return { ...p, os, architecture, variant: variant === "" ? undefined : variant };
}

function normalizeArch(rawArch: string, rawVariant: string): [string, string] {
  const arch = rawArch.toLowerCase();
  const variant = rawVariant.toLowerCase();
  switch (arch) {
    case "i386":
      return ["386", ""];
    case "x86_64":
    case "x86-64":
    case "amd64":
      return ["amd64", variant === "v1" ? "" : variant];
    case "aarch64":
    case "arm64":
      return ["arm64", ["8", "v8", "v8.0"].includes(variant) ? "" : variant];
    case "armhf":
      return ["arm", "v7"];
    case "armel":
      return ["arm", "v6"];
    case "arm":
      if (variant === "" || variant === "7") return ["arm", "v7"];
      return ["arm", ["5", "6", "8"].includes(variant) ? `v${variant}` : variant];
    default:
      return [arch, variant];
  }
}

function versionOf(variant: string | undefined): number | undefined {
  const n = Number.parseInt((variant ?? "").replace(/^v/, ""), 10);
  return Number.isNaN(n) ? undefined : n;
}

/** The platforms p can run, best first (containerd's platformVector). */
export function platformVector(p: Platform): Platform[] {
  const vector: Platform[] = [p];
  const base = { os: p.os, osVersion: p.osVersion };
  if (p.architecture === "amd64") {
    const v = versionOf(p.variant);
    if (v !== undefined && v > 1) {
      for (let i = v - 1; i >= 1; i--) vector.push({ ...base, architecture: "amd64", variant: i === 1 ? undefined : `v${i}` });
    }
    vector.push({ ...base, architecture: "386" });
  } else if (p.architecture === "arm") {
    const v = versionOf(p.variant);
    if (v !== undefined && v > 5) {
      for (let i = v - 1; i >= 5; i--) vector.push({ ...base, architecture: "arm", variant: `v${i}` });
    }
  } else if (p.architecture === "arm64") {
    vector.push(...platformVector({ ...base, architecture: "arm", variant: p.variant ?? "v8" }));
  }
  return vector;
}

function same(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? "") === (b.variant ?? "");
}

/** Only(platform): matches the platform and those it can run, preferring the closest. */
export function onlyPlatform(platform: Platform): PlatformMatcher {
  const vector = platformVector(normalizePlatform(platform));
  const rank = (p: Platform): number => {
    const n = normalizePlatform(p);
    const i = vector.findIndex((v) => same(v, n));
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return {
    match: (p) => rank(p) !== Number.MAX_SAFE_INTEGER,
    less: (a, b) => rank(a) < rank(b),
  };
}

/** An index entry's platform in our spelling. */
export function fromOciPlatform(p: OciPlatform): Platform {
  return {
    os: p.os,
    architecture: p.architecture,
    variant: p.variant,
    osVersion: p["os.version"],
    osFeatures: p["os.features"],
  };
}

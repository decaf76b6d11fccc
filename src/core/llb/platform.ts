/** Target platforms, as in the OCI image spec (and LLB's pb.Platform). */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly osVersion?: string;
  readonly osFeatures?: readonly string[];
}

const ARCH_BY_NODE: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

/** The platform this process runs on, normalised the way containerd's platforms package does. */
export function hostPlatform(): Platform {
  const architecture = ARCH_BY_NODE[process.arch] ?? process.arch;
  const os = process.platform === "win32" ? "windows" : process.platform;
  return architecture === "arm" ? { os, architecture, variant: "v7" } : { os, architecture };
}

/** Parses `os/arch[/variant]`, e.g. `linux/arm64` or `linux/arm/v7`. */
export function parsePlatform(spec: string): Platform {
  const parts = spec.split("/");
  const [os, architecture, variant] = parts;
  if (parts.length < 2 || parts.length > 3 || !os || !architecture || (parts.length === 3 && !variant)) {
    throw new Error(`parsing platform "${spec}": expected os/arch[/variant]`);
  }
  const arch = architecture === "x86_64" ? "amd64" : architecture === "aarch64" ? "arm64" : architecture;
  return variant ? { os, architecture: arch, variant } : { os, architecture: arch };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

export const LINUX_AMD64: Platform = { os: "linux", architecture: "amd64" };
export const LINUX_ARM64: Platform = { os: "linux", architecture: "arm64" };

/**
 * containerd's platforms.Normalize as BuildKit v0.11 vendors it: lower case, macos → darwin,
 * aarch64 → arm64 (its v8 variant dropped), armhf/armel → arm/v7 and arm/v6, a bare arm → arm/v7.
 * Go's client normalises every platform a State takes (State.Platform, an output's platform).
 */
export function normalizePlatform(p: Platform): Platform {
  let os = p.os.toLowerCase();
  if (os === "macos") os = "darwin";
  let architecture = p.architecture.toLowerCase();
  let variant = (p.variant ?? "").toLowerCase();
  switch (architecture) {
    case "i386":
      [architecture, variant] = ["386", ""];
      break;
    case "x86_64":
    case "x86-64":
    case "amd64":
      architecture = "amd64";
      if (variant === "v1") variant = "";
      break;
    case "aarch64":
    case "arm64":
      architecture = "arm64";
      if (variant === "8" || variant === "v8") variant = "";
      break;
    case "armhf":
      [architecture, variant] = ["arm", "v7"];
      break;
    case "armel":
      [architecture, variant] = ["arm", "v6"];
      break;
    case "arm":
      if (variant === "" || variant === "7") variant = "v7";
      else if (["5", "6", "8"].includes(variant)) variant = `v${variant}`;
      break;
  }
  const out: { -readonly [K in keyof Platform]: Platform[K] } = { ...p, os, architecture };
  if (variant) out.variant = variant;
  else delete out.variant;
  return out;
}

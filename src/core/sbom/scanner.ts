/**
 * The SBOM scan of a result, as BuildKit v0.11's frontend/attestations/sbom CreateSBOMScanner
 * builds it: an ordinary exec of the scanner image (its Entrypoint + Cmd, its Env plus
 * BUILDKIT_SCAN_DESTINATION and BUILDKIT_SCAN_SOURCE, its WorkingDir), with a tmpfs at /tmp, the
 * scanned result read-only at /run/src/core/sbom, any extras read-only under /run/src/extras/,
 * and an empty output mount at /run/out/ whose files are the scan's in-toto statements.
 */
import { BuildkitError } from "../errors.ts";
import type { ContainerConfig } from "../image/oci-types.ts";
import { image, scratch, type State } from "../llb/index.ts";

export const CORE_SBOM_NAME = "sbom";
export const EXTRA_SBOM_PREFIX = `${CORE_SBOM_NAME}-`;
const SRC_DIR = "/run/src/";
const OUT_DIR = "/run/out/";

/** The scanner image's command and environment, from its config. */
export interface ScannerImage {
  /** The normalised reference the scan's image source uses. */
  readonly ref: string;
  readonly config: ContainerConfig | undefined;
}

/** What to scan: the result (core) and states attached beside it (a Dockerfile's context or stages). */
export interface ScanTarget {
  /** The platform ID the scan is named after ("linux/amd64"). */
  readonly name: string;
  readonly core: State;
  readonly extras?: ReadonlyMap<string, State>;
  /** Run the scan even when a cached result exists (no-cache for the whole build). */
  readonly ignoreCache?: boolean;
}

/** The scan's output directory: the state whose files are the SBOM bundle. Throws when the image has no command. */
export function scanState(scanner: ScannerImage, target: ScanTarget): State {
  const cfg = scanner.config ?? {};
  const args = [...(cfg.Entrypoint ?? []), ...(cfg.Cmd ?? [])];
  if (args.length === 0) throw new BuildkitError("InvalidArgument", `scanner ${scanner.ref} does not have cmd`);
  const env: [string, string][] = (cfg.Env ?? []).map((kv) => {
    const eq = kv.indexOf("=");
    return eq < 0 ? [kv, ""] : [kv.slice(0, eq), kv.slice(eq + 1)];
  });
  env.push(["BUILDKIT_SCAN_DESTINATION", OUT_DIR]);
  env.push(["BUILDKIT_SCAN_SOURCE", `${SRC_DIR}core/${CORE_SBOM_NAME}`]);
  // path.Join(srcDir, "extras/"): Go's Join drops the trailing slash.
  if (target.extras && target.extras.size > 0) env.push(["BUILDKIT_SCAN_SOURCE_EXTRAS", `${SRC_DIR}extras`]);
  // llb.Dir(""): the root, as Go's path.Join("/", "") makes it.
  let base = image(scanner.ref).dir(cfg.WorkingDir || "/");
  for (const [k, v] of env) base = base.addEnv(k, v);
  const run = base.run({ args, name: `[${target.name}] generating sbom using ${scanner.ref}`, ...(target.ignoreCache ? { ignoreCache: true } : {}) });
  run.addMount("/tmp", scratch(), { tmpfs: true });
  run.addMount(`${SRC_DIR}core/${CORE_SBOM_NAME}`, target.core, { readonly: true });
  for (const [k, extra] of target.extras ?? []) run.addMount(`${SRC_DIR}extras/${EXTRA_SBOM_PREFIX}${k}`, extra, { readonly: true });
  return run.addMount(OUT_DIR, scratch());
}

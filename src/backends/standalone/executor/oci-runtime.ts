// Which OCI runtime the standalone executor drives: `runc`, `crun` or a path, as asked; by default
// crun when it is installed and runs a trivial container on this kernel, runc otherwise. The
// check runs once and is remembered in a small file, keyed by the crun binary and the host's
// cgroup mounts, so it is redone only when either changes: in the state root, and for the
// whole host until the next boot in /run (a fresh state root then costs no probe container).
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { findOciRuntime, whichRuntime } from "./runc.ts";
import type { OciRuntimeName } from "./runc.ts";
import { runtimeArgv, runtimeInvocation } from "./hybrid-cgroups.ts";
import { probeRuntime } from "./runtime-probe.ts";
import type { ProbeResult } from "./runtime-probe.ts";

/** "runc", "crun" or the path of a binary with runc's command line; undefined: the default. */
export type OciRuntimeRequest = string | undefined;

export interface ChosenRuntime {
  readonly name: string;
  /** undefined: runc, found when the first container runs (a build without RUN needs none). */
  readonly path?: string;
}

/** What choosing the default needs from the host; injectable for tests. */
export interface RuntimeHost {
  readonly which: (name: OciRuntimeName) => string | undefined;
  /** Identifies the crun binary and the cgroup layout: a remembered verdict holds while it is equal. */
  readonly fingerprint: (crunPath: string) => string;
  readonly recall: () => RememberedProbe | undefined;
  readonly remember: (r: RememberedProbe) => void;
  readonly probe: (crunPath: string) => Promise<ProbeResult>;
}

export interface RememberedProbe {
  readonly fingerprint: string;
  readonly result: ProbeResult;
}

const HYBRID_CGROUPS = "cgroups in hybrid mode not supported";

/** One line on why crun is not used, from its probe error. */
export function explainCrunFailure(error: string): string {
  if (error.includes(HYBRID_CGROUPS)) {
    return (
      `not using crun: it refuses this host's hybrid cgroup layout (cgroup v2 holds the hugetlb controller: "${error}"); using runc. ` +
      "Mounting hugetlb as a cgroup v1 hierarchy (mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb) lets crun run; that is the operator's call"
    );
  }
  return `not using crun: it failed a trivial container on this host (${error}); using runc`;
}

/**
 * The default runtime: crun when installed and its remembered (or fresh) probe passed, else runc.
 * onNotice gets one line when a fresh probe rules crun out.
 */
export async function defaultRuntime(host: RuntimeHost, onNotice: (line: string) => void): Promise<ChosenRuntime> {
  const runc: ChosenRuntime = { name: "runc" };
  const crun = host.which("crun");
  if (crun === undefined) return runc;
  const fingerprint = host.fingerprint(crun);
  const known = host.recall();
  let result = known?.fingerprint === fingerprint ? known.result : undefined;
  if (result === undefined) {
    result = await host.probe(crun);
    host.remember({ fingerprint, result });
    if (!result.ok) onNotice(explainCrunFailure(result.error));
  }
  return result.ok ? { name: "crun", path: crun } : runc;
}

/** The cgroup mounts of this mount namespace: what decides whether crun accepts the layout. */
function cgroupMounts(): string {
  const mounts = readFileSync("/proc/self/mounts", "utf8").split("\n");
  return mounts.filter((line) => / cgroup2? /.test(line)).join("\n");
}

/** Where a verdict is also kept for the whole host: /run is emptied at boot, as a new kernel wants. */
export const HOST_PROBE_FILE = "/run/buildkit-ts/oci-runtime.json";

function readProbe(file: string): RememberedProbe | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as RememberedProbe;
  } catch {
    return undefined;
  }
}

/**
 * The real host, remembering probes in `<root>/oci-runtime.json` and in hostFile. Recall prefers
 * the root's own verdict; the caller compares fingerprints, so a stale one is probed again.
 */
export function hostRuntimeFacts(root: string, hostFile: string = HOST_PROBE_FILE): RuntimeHost {
  const file = join(root, "oci-runtime.json");
  return {
    which: whichRuntime,
    fingerprint: (path) => {
      const st = statSync(path);
      const how = runtimeArgv(runtimeInvocation(path), path, []);
      // How it is run is part of the verdict: a host whose crun was refused before is asked again.
      return `${how.join(" ")} ${st.size} ${st.mtimeMs}\n${cgroupMounts()}`;
    },
    recall: () => readProbe(file) ?? readProbe(hostFile),
    remember: (r) => {
      writeFileSync(file, JSON.stringify(r));
      try {
        mkdirSync(dirname(hostFile), { recursive: true, mode: 0o755 });
        writeFileSync(hostFile, JSON.stringify(r));
      } catch {
        // Not writable (not root, no /run): the state root's copy still counts.
      }
    },
    probe: (path) => probeRuntime(path, join(root, `probe-${process.pid}`), runtimeInvocation(path)),
  };
}

/** Resolves a request: a name to the installed binary, a path as is, the default by probing. */
export async function chooseRuntime(request: OciRuntimeRequest, opts: { root: string; host?: RuntimeHost; onNotice: (line: string) => void }): Promise<ChosenRuntime> {
  if (request === "runc") return { name: "runc" };
  if (request === "crun") return { name: "crun", path: findOciRuntime("crun") };
  if (request !== undefined) return { name: basename(request), path: findOciRuntime(basename(request).includes("crun") ? "crun" : "runc", request) };
  return defaultRuntime(opts.host ?? hostRuntimeFacts(opts.root), opts.onNotice);
}

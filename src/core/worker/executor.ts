import type { Mount } from "./mount.ts";

/** A mount inside the container: the host-side mounts that make it, placed at dest. */
export interface ExecMount {
  readonly dest: string;
  /** Snapshot mounts, a bind of a host path (secrets, sockets, cache dirs), or a tmpfs. */
  readonly mounts: readonly Mount[];
  /** Mount only this sub-path of the source (LLB's selector). */
  readonly selector?: string;
  readonly readonly?: boolean;
}

export interface ProcessMeta {
  readonly args: readonly string[];
  /** KEY=value strings. */
  readonly env: readonly string[];
  readonly cwd: string;
  /** "", "name", "uid", "uid:gid" or "name:group"; resolved in the container's /etc/passwd. */
  readonly user: string;
  readonly hostname?: string;
  readonly network: "sandbox" | "host" | "none";
  readonly security: "sandbox" | "insecure";
  readonly extraHosts?: readonly { host: string; ip: string }[];
  readonly ulimits?: readonly { name: string; soft: number; hard: number }[];
}

export interface ProcessIO {
  /** Called with each chunk the process writes; chunks are not retained by the executor. */
  stdout(chunk: Uint8Array): void;
  stderr(chunk: Uint8Array): void;
  /**
   * What the process reads on stdin, as it comes (a gateway frontend's gRPC connection); its end
   * closes the process's stdin. Without it stdin is /dev/null.
   */
  readonly stdin?: AsyncIterable<Uint8Array>;
}

/** Runs one process in a container. Aborting the signal kills the process and cleans up. */
export interface Executor {
  run(p: { root: readonly Mount[]; mounts: readonly ExecMount[]; meta: ProcessMeta; io: ProcessIO }, signal: AbortSignal): Promise<{ exitCode: number }>;
}

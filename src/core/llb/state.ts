import type { Output } from "./vertex.ts";
import { normalizePlatform, type Platform } from "./platform.ts";
import type { MarshalOptions } from "./constraints.ts";
import type { FileAction } from "./file.ts";
import type { OpOptions } from "./options.ts";
import { newExecOp, type ExecOp, type MountOptions, type RunOptions } from "./exec.ts";
import { newFileOp } from "./file.ts";
import { marshalDefinition } from "./marshal.ts";
import { cleanPath } from "./path.ts";
import { posix } from "node:path";

export type NetMode = "sandbox" | "host" | "none";
export type SecurityMode = "sandbox" | "insecure";
export interface HostIP {
  readonly host: string;
  readonly ip: string;
}
export interface Ulimit {
  readonly name: string;
  readonly soft: number;
  readonly hard: number;
}

/** The settings a State carries for the steps run on it. */
interface StateValues {
  readonly env: readonly (readonly [string, string])[];
  readonly dir: string;
  readonly user?: string;
  readonly hostname?: string;
  readonly network?: NetMode;
  readonly security?: SecurityMode;
  readonly platform?: Platform;
  readonly extraHosts: readonly HostIP[];
  readonly ulimits: readonly Ulimit[];
  readonly cgroupParent?: string;
}

interface ConfigLike {
  readonly Env?: readonly string[] | null;
  readonly WorkingDir?: string;
}
interface ImageLike {
  readonly architecture?: string;
  readonly os?: string;
  readonly variant?: string;
  readonly config?: ConfigLike | null;
}
/** An OCI image (its JSON, with "config"), or only its config's "Env"/"WorkingDir". */
export type ImageConfigLike = ImageLike | ConfigLike;

const INITIAL: StateValues = { env: [], dir: "/", extraHosts: [], ulimits: [] };

/**
 * An immutable point in a build graph: an output of some vertex (none for scratch) plus the
 * environment, working directory, user and platform that steps run on it get. Every method
 * returns a new State.
 */
export class State {
  readonly #output: Output | undefined;
  readonly #values: StateValues;

  constructor(output?: Output, values?: StateValues) {
    this.#output = output;
    this.#values = values ?? (output?.platform ? { ...INITIAL, platform: normalizePlatform(output.platform) } : INITIAL);
  }

  output(): Output | undefined {
    return this.#output;
  }

  /** A state's values, for subclasses that wrap a state. */
  protected static valuesOf(s: State): StateValues {
    return s.#values;
  }

  /**
   * This state's values on another output. An output that has a platform of its own (an
   * image source, or an exec given one) sets it, normalised, as Go's State.WithOutput does.
   */
  withOutput(output: Output | undefined): State {
    return new State(output, output?.platform ? { ...this.#values, platform: normalizePlatform(output.platform) } : this.#values);
  }

  #with(patch: Partial<StateValues>): State {
    return new State(this.#output, { ...this.#values, ...patch });
  }

  /** Sets an environment variable; a later value replaces an earlier one and moves to the end. */
  addEnv(key: string, value: string): State {
    return this.#with({ env: [...this.#values.env.filter(([k]) => k !== key), [key, value]] });
  }

  getEnv(key: string): string | undefined {
    return this.#values.env.find(([k]) => k === key)?.[1];
  }

  /** The environment as `KEY=value` strings, in order. */
  env(): string[] {
    return this.#values.env.map(([k, v]) => `${k}=${v}`);
  }

  /** Sets the working directory; a relative path is taken from the current one. */
  dir(path: string): State {
    return this.#with({ dir: posix.isAbsolute(path) ? path : cleanPath(posix.join(this.#values.dir, path)) });
  }

  getDir(): string {
    return this.#values.dir;
  }

  user(user: string): State {
    return this.#with({ user });
  }

  getUser(): string | undefined {
    return this.#values.user;
  }

  hostname(hostname: string): State {
    return this.#with({ hostname });
  }

  getHostname(): string | undefined {
    return this.#values.hostname;
  }

  network(network: NetMode): State {
    return this.#with({ network });
  }

  getNetwork(): NetMode {
    return this.#values.network ?? "sandbox";
  }

  security(security: SecurityMode): State {
    return this.#with({ security });
  }

  getSecurity(): SecurityMode {
    return this.#values.security ?? "sandbox";
  }

  /** The platform steps run on this state are built for, normalised as containerd does (aarch64 → arm64…). */
  platform(platform: Platform): State {
    return this.#with({ platform: normalizePlatform(platform) });
  }

  getPlatform(): Platform | undefined {
    return this.#values.platform;
  }

  addExtraHost(host: string, ip: string): State {
    return this.#with({ extraHosts: [...this.#values.extraHosts, { host, ip }] });
  }

  getExtraHosts(): readonly HostIP[] {
    return this.#values.extraHosts;
  }

  addUlimit(name: string, soft: number, hard: number): State {
    return this.#with({ ulimits: [...this.#values.ulimits, { name, soft, hard }] });
  }

  getUlimits(): readonly Ulimit[] {
    return this.#values.ulimits;
  }

  cgroupParent(cgroupParent: string): State {
    return this.#with({ cgroupParent });
  }

  getCgroupParent(): string | undefined {
    return this.#values.cgroupParent;
  }

  /**
   * Takes the defaults an image's config gives the processes run on it, as BuildKit's
   * WithImageConfig does: its environment (an entry without "=" is an empty value), working
   * directory and, when the image names them, its OS and architecture. Not its user: Go's
   * client leaves that to the caller.
   */
  withImageConfig(image: ImageConfigLike): State {
    const config = "config" in image || "architecture" in image ? (image as ImageLike).config ?? {} : (image as ConfigLike);
    let s: State = this;
    for (const kv of config.Env ?? []) {
      const eq = kv.indexOf("=");
      const name = eq < 0 ? kv : kv.slice(0, eq);
      if (name) s = s.addEnv(name, eq < 0 ? "" : kv.slice(eq + 1));
    }
    if (config.WorkingDir) s = s.dir(config.WorkingDir);
    const img = image as ImageLike;
    if (img.architecture && img.os) s = s.platform(img.variant ? { os: img.os, architecture: img.architecture, variant: img.variant } : { os: img.os, architecture: img.architecture });
    return s;
  }

  /** Runs a process with this state as its root filesystem. */
  run(opts: RunOptions): ExecState {
    const exec = newExecOp(this, opts);
    return new ExecState(this.withOutput(exec.root), exec);
  }

  /** Applies file actions (mkdir, mkfile, rm, copy, symlink) to this state. */
  file(action: FileAction, opts?: OpOptions): State {
    return this.withOutput(newFileOp(this, action, opts));
  }

  /** The Definition bytes (pb.Definition) of the graph that ends at this state. */
  marshal(opts?: MarshalOptions): Uint8Array {
    return marshalDefinition(this.#output, opts).bytes;
  }

  /** Writes the Definition to a stream such as process.stdout. */
  async writeTo(stream: NodeJS.WritableStream, opts?: MarshalOptions): Promise<void> {
    const bytes = this.marshal(opts);
    await new Promise<void>((resolve, reject) => stream.write(bytes, (err) => (err ? reject(err) : resolve())));
  }
}

/** The result of `run`: the root filesystem after the process, plus access to its other mounts. */
export class ExecState extends State {
  readonly #exec: ExecOp;

  constructor(root: State, exec: ExecOp) {
    super(root.output(), State.valuesOf(root));
    this.#exec = exec;
  }

  root(): State {
    return new State(this.output(), State.valuesOf(this));
  }

  /** The state of the mount at dest after the process ran (its output), if there is one. */
  getMount(dest: string): State | undefined {
    const out = this.#exec.getMount(dest);
    return out && new State(out);
  }

  /**
   * Adds a mount to this exec step (as BuildKit's client does, the step itself gains the
   * mount) and returns the state of that mount after the process ran.
   */
  addMount(dest: string, source: State, opts?: MountOptions): State {
    return source.withOutput(this.#exec.addMount(dest, source.output(), opts));
  }
}

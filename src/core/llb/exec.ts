import type { pb } from "../pb/index.ts";
import type { State, NetMode, SecurityMode, HostIP, Ulimit } from "./state.ts";
import { Cap, type CapID } from "./caps.ts";
import { addCaps, mergeConstraints, type Constraints, type MarshalContext } from "./constraints.ts";
import { LLBError } from "./errors.ts";
import { constraintsOf, type OpOptions } from "./options.ts";
import { shlexSplit } from "./shlex.ts";
import { MarshalCache, encodeOp, opBase, sameInput, toInput, type MarshalledOp, type Output, type PbInput, type Vertex } from "./vertex.ts";
import { posix } from "node:path";

export type CacheSharing = "shared" | "private" | "locked";

/** How a mount is made; with none of these it is a writable bind whose result is an output. */
export interface MountOptions {
  readonly?: boolean;
  /** Mount only this path of the source (BuildKit's SourcePath). */
  selector?: string;
  /** A persistent cache directory shared between builds by id. */
  cache?: { id: string; sharing?: CacheSharing };
  /** A tmpfs; the source must be scratch. */
  tmpfs?: boolean | { size?: number };
  /** Writable, but its result is thrown away. */
  noOutput?: boolean;
  contentCache?: "default" | "on" | "off";
}

export interface MountSpec extends MountOptions {
  dest: string;
  source: State;
}

export interface SecretSpec {
  id: string;
  /** Mount the secret as a file here… */
  dest?: string;
  /** …and/or expose it as this environment variable. */
  env?: string;
  uid?: number;
  gid?: number;
  mode?: number;
  optional?: boolean;
}

export interface SSHSpec {
  id?: string;
  /** Where the agent socket appears; default /run/buildkit/ssh_agent.N. */
  dest?: string;
  uid?: number;
  gid?: number;
  mode?: number;
  optional?: boolean;
}

export interface ProxyEnv {
  httpProxy?: string;
  httpsProxy?: string;
  ftpProxy?: string;
  noProxy?: string;
  allProxy?: string;
}

export interface RunOptions extends OpOptions {
  /** The command as argv… */
  args?: readonly string[];
  /** …or as one string split like a shell would (no expansion). */
  shlex?: string;
  env?: Record<string, string>;
  cwd?: string;
  user?: string;
  hostname?: string;
  network?: NetMode;
  security?: SecurityMode;
  mounts?: readonly MountSpec[];
  secrets?: readonly SecretSpec[];
  ssh?: readonly SSHSpec[];
  readonlyRootfs?: boolean;
  validExitCodes?: readonly number[];
  extraHosts?: readonly HostIP[];
  ulimits?: readonly Ulimit[];
  cgroupParent?: string;
  proxyEnv?: ProxyEnv;
}

interface MountState {
  readonly dest: string;
  readonly source: Output | undefined;
  readonly opts: MountOptions;
  /** What the mount yields after the run: an output of this op, the source (read-only), or an error. */
  output: Output;
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const NET_MODE: Record<NetMode, number> = { sandbox: 0, host: 1, none: 2 };
const SHARING: Record<CacheSharing, number> = { shared: 0, private: 1, locked: 2 };
const CONTENT_CACHE = { default: 0, on: 1, off: 2 } as const;

export function newExecOp(state: State, opts: RunOptions): ExecOp {
  let base = state;
  for (const [k, v] of Object.entries(opts.env ?? {})) base = base.addEnv(k, v);
  if (opts.cwd !== undefined) base = base.dir(opts.cwd);
  if (opts.user !== undefined) base = base.user(opts.user);
  if (opts.hostname !== undefined) base = base.hostname(opts.hostname);
  if (opts.network !== undefined) base = base.network(opts.network);
  if (opts.security !== undefined) base = base.security(opts.security);
  if (opts.cgroupParent !== undefined) base = base.cgroupParent(opts.cgroupParent);
  for (const h of opts.extraHosts ?? []) base = base.addExtraHost(h.host, h.ip);
  for (const u of opts.ulimits ?? []) base = base.addUlimit(u.name, u.soft, u.hard);
  const args = opts.shlex !== undefined ? shlexSplit(opts.shlex) : [...(opts.args ?? [])];
  if (args.length === 0) throw new LLBError("run: arguments are required");
  const exec = new ExecOp(base, args, opts);
  for (const m of opts.mounts ?? []) exec.addMount(m.dest, m.source.output(), m);
  return exec;
}

/** A process run in a container whose filesystem is made of mounts (pb.ExecOp). */
export class ExecOp implements Vertex {
  readonly root: Output;
  readonly #base: State;
  readonly #args: readonly string[];
  readonly #opts: RunOptions;
  readonly #constraints: Constraints;
  readonly #mounts: MountState[] = [];
  readonly #cache = new MarshalCache();

  constructor(base: State, args: readonly string[], opts: RunOptions) {
    this.#base = base;
    this.#args = args;
    this.#opts = opts;
    this.#constraints = constraintsOf(opts);
    for (const s of opts.secrets ?? []) checkAbsolute("secret", s.dest);
    for (const s of opts.ssh ?? []) checkAbsolute("ssh socket", s.dest);
    const source = base.output();
    if (opts.readonlyRootfs && !source) throw new LLBError("run: a read-only root filesystem needs a source, not scratch");
    const root: MountState = { dest: "/", source, opts: { readonly: opts.readonlyRootfs }, output: NO_OUTPUT };
    root.output = opts.readonlyRootfs && source ? source : this.#outputFor(root);
    this.#mounts.push(root);
    this.root = root.output;
  }

  addMount(dest: string, source: Output | undefined, opts: MountOptions = {}): Output {
    checkAbsolute("mount", dest);
    if (this.#mounts.some((m) => m.dest === dest)) throw new LLBError(`mount ${dest}: a mount already exists at this path`);
    if (opts.tmpfs && source) throw new LLBError(`mount ${dest}: tmpfs mounts must use scratch`);
    if (opts.cache && !opts.cache.id) throw new LLBError(`mount ${dest}: cache mounts need an id`);
    const m: MountState = { dest, source, opts, output: NO_OUTPUT };
    if (opts.readonly) m.output = source ?? noOutput(`read-only scratch mount ${dest}`);
    else if (isOutputMount(m)) m.output = this.#outputFor(m);
    else m.output = noOutput(`${opts.tmpfs ? "tmpfs" : opts.cache ? "cache" : "no-output"} mount ${dest}`);
    this.#mounts.push(m);
    this.#cache.clear();
    return m.output;
  }

  /** The output of the mount at dest (one that fails to marshal for tmpfs, cache and no-output mounts). */
  getMount(dest: string): Output | undefined {
    return this.#mounts.find((m) => m.dest === dest)?.output;
  }

  #sorted(): MountState[] {
    return [...this.#mounts].sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
  }

  #outputFor(m: MountState): Output {
    const platform = this.#constraints.platform;
    return {
      vertex: this,
      platform,
      index: () => this.#sorted().filter(isOutputMount).indexOf(m),
    };
  }

  inputs(): readonly Output[] {
    const seen = new Set<Output>();
    for (const m of this.#sorted()) if (m.source) seen.add(m.source);
    return [...seen];
  }

  marshal(ctx: MarshalContext): MarshalledOp {
    return this.#cache.get(ctx, () => this.#marshal(ctx));
  }

  #marshal(ctx: MarshalContext): MarshalledOp {
    const b = this.#base;
    const ssh = (this.#opts.ssh ?? []).map((s, i) => ({ ...s, dest: s.dest ?? `/run/buildkit/ssh_agent.${i}` }));
    let env = ssh[0] && b.getEnv("SSH_AUTH_SOCK") === undefined ? b.addEnv("SSH_AUTH_SOCK", ssh[0].dest).env() : b.env();
    const caps: CapID[] = [Cap.execMetaBase];
    if (ctx.caps) {
      if (ctx.caps.includes(Cap.execMetaSetsDefaultPath)) caps.push(Cap.execMetaSetsDefaultPath);
      else if (!env.some((e) => e.startsWith("PATH="))) env = [...env, `PATH=${DEFAULT_PATH}`];
    }
    const meta: pb.Meta.$Properties = { args: [...this.#args], env, cwd: b.getDir(), user: b.getUser(), hostname: b.getHostname() };
    meta.cgroupParent = b.getCgroupParent();
    meta.removeMountStubsRecursive = true;
    if (this.#opts.validExitCodes) {
      meta.validExitCodes = [...this.#opts.validExitCodes];
      caps.push(Cap.execValidExitCode);
    }
    if (b.getExtraHosts().length) meta.extraHosts = b.getExtraHosts().map((h) => ({ Host: h.host, IP: h.ip }));
    if (b.getUlimits().length) {
      meta.ulimit = b.getUlimits().map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard }));
      caps.push(Cap.execMetaUlimit);
    }
    const exec: pb.ExecOp.$Properties = { meta, mounts: [], network: NET_MODE[b.getNetwork()], security: b.getSecurity() === "insecure" ? 1 : 0 };
    if (b.getNetwork() !== "sandbox") caps.push(Cap.execMetaNetwork);
    if (b.getSecurity() !== "sandbox") caps.push(Cap.execMetaSecurity);
    const p = this.#opts.proxyEnv;
    if (p) {
      meta.proxy_env = { http_proxy: p.httpProxy, https_proxy: p.httpsProxy, ftp_proxy: p.ftpProxy, no_proxy: p.noProxy, all_proxy: p.allProxy };
      caps.push(Cap.execMetaProxy);
    }
    const sorted = this.#sorted();
    for (const m of sorted) caps.push(...mountCaps(m));
    const secrets = this.#opts.secrets ?? [];
    if (secrets.length) caps.push(Cap.execMountSecret);
    if (secrets.some((s) => s.env !== undefined)) caps.push(Cap.execSecretEnv);
    if (ssh.length) caps.push(Cap.execMountSSH);

    let own = addCaps(this.#constraints, ...caps);
    if (!own.platform) {
      const platform = b.getPlatform();
      if (platform) own = mergeConstraints(own, { platform });
    }
    const { op, ...base } = opBase(ctx, own);
    const inputs: PbInput[] = [];
    let outIndex = 0;
    for (const m of sorted) {
      let input = -1;
      if (m.source) {
        const inp = toInput(m.source, ctx);
        input = inputs.findIndex((other) => sameInput(other, inp));
        if (input < 0) input = inputs.push(inp) - 1;
      }
      const output = isOutputMount(m) ? outIndex++ : -1;
      exec.mounts!.push(pbMount(m, input, output));
    }
    for (const s of secrets) {
      if (s.env !== undefined) (exec.secretenv ??= []).push({ ID: s.id, name: s.env, optional: s.optional });
      if (s.dest !== undefined) {
        exec.mounts!.push({ dest: s.dest, mountType: 1, secretOpt: { ID: s.id, uid: nz(s.uid), gid: nz(s.gid), mode: s.mode ?? 0o400, optional: s.optional || undefined } });
      }
    }
    for (const s of ssh) {
      exec.mounts!.push({ dest: s.dest, mountType: 2, SSHOpt: { ID: s.id || undefined, uid: nz(s.uid), gid: nz(s.gid), mode: s.mode ?? 0o600, optional: s.optional || undefined } });
    }
    return encodeOp({ inputs, exec, ...op }, base);
  }
}

/** Stands for a mount that yields nothing; using it as an input is an error at marshal time. */
function noOutput(what: string): Output {
  const fail = (): never => {
    throw new LLBError(`${what} has no output and cannot be used as an input`);
  };
  return { vertex: { inputs: () => [], marshal: fail }, index: () => 0 };
}

const NO_OUTPUT = noOutput("mount");

function isOutputMount(m: MountState): boolean {
  const o = m.opts;
  return !o.noOutput && !o.readonly && !o.cache && !o.tmpfs;
}

function mountCaps(m: MountState): CapID[] {
  const caps: CapID[] = [];
  const o = m.opts;
  if (o.selector) caps.push(Cap.execMountSelector);
  if (o.cache) caps.push(Cap.execMountCache, Cap.execMountCacheSharing);
  else if (o.tmpfs) {
    caps.push(Cap.execMountTmpfs);
    if (typeof o.tmpfs === "object" && (o.tmpfs.size ?? 0) > 0) caps.push(Cap.execMountTmpfsSize);
  } else if (m.source) caps.push(Cap.execMountBind);
  if (o.contentCache && o.contentCache !== "default") caps.push(Cap.execMountContentCache);
  return caps;
}

function pbMount(m: MountState, input: number, output: number): pb.Mount.$Properties {
  const o = m.opts;
  const pm: pb.Mount.$Properties = { input, selector: o.selector, dest: m.dest, output, readonly: o.readonly };
  if (o.cache) {
    pm.mountType = 3;
    pm.cacheOpt = { ID: o.cache.id, sharing: SHARING[o.cache.sharing ?? "shared"] };
  }
  if (o.contentCache) pm.contentCache = CONTENT_CACHE[o.contentCache];
  if (o.tmpfs) {
    pm.mountType = 4;
    pm.TmpfsOpt = { size: typeof o.tmpfs === "object" ? o.tmpfs.size : undefined };
  }
  return pm;
}

/** proto3 leaves zero out; protobufjs writes any field that is set, so unset it. */
function nz(n: number | undefined): number | undefined {
  return n === 0 ? undefined : n;
}

function checkAbsolute(what: string, dest: string | undefined): void {
  if (dest !== undefined && !posix.isAbsolute(dest)) throw new LLBError(`${what} ${dest}: destination must be an absolute path`);
}

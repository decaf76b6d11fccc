import { Cap, type CapID } from "./caps.ts";
import { addCaps, type Constraints, type MarshalContext } from "./constraints.ts";
import { LLBError } from "./errors.ts";
import { constraintsOf, type OpOptions } from "./options.ts";
import { State } from "./state.ts";
import { MarshalCache, encodeOp, opBase, simpleOutput, type MarshalledOp, type Output, type Vertex } from "./vertex.ts";
import { normalizeImageRef } from "../reference/docker-ref.ts";
import { parseGitRemote, type GitRemote } from "../reference/git-url.ts";
import { cleanPath } from "./path.ts";
import { posix } from "node:path";
import { goJSON } from "../go-json.ts";

/** Source attribute names, spelled as BuildKit spells them (solver/pb/attr.go). */
export const Attr = {
  keepGitDir: "git.keepgitdir",
  fullRemoteURL: "git.fullurl",
  authHeaderSecret: "git.authheadersecret",
  authTokenSecret: "git.authtokensecret",
  knownSSHHosts: "git.knownsshhosts",
  mountSSHSock: "git.mountsshsock",
  localSessionID: "local.session",
  localUniqueID: "local.unique",
  includePatterns: "local.includepattern",
  excludePatterns: "local.excludepatterns",
  followPaths: "local.followpaths",
  sharedKeyHint: "local.sharedkeyhint",
  localDiffer: "local.differ",
  imageResolveMode: "image.resolvemode",
  imageRecordType: "image.recordtype",
  imageLayerLimit: "image.layerlimit",
  httpChecksum: "http.checksum",
  httpFilename: "http.filename",
  httpPerm: "http.perm",
  httpUID: "http.uid",
  httpGID: "http.gid",
  ociLayoutSessionID: "oci.session",
  ociLayoutStoreID: "oci.store",
  ociLayoutLayerLimit: "oci.layerlimit",
} as const;

/** A source of content: an image, a repository, a client directory (pb.SourceOp). */
class SourceOp implements Vertex {
  readonly #id: string;
  readonly #attrs: Readonly<Record<string, string>>;
  readonly #constraints: Constraints;
  readonly #cache = new MarshalCache();

  constructor(id: string, attrs: Record<string, string>, constraints: Constraints) {
    this.#id = id;
    this.#attrs = attrs;
    this.#constraints = constraints;
  }

  inputs(): readonly Output[] {
    return [];
  }

  marshal(ctx: MarshalContext): MarshalledOp {
    return this.#cache.get(ctx, () => {
      const attrs = { ...this.#attrs };
      let own = this.#constraints;
      if (this.#id.startsWith("local://") && attrs[Attr.localSessionID] === undefined) {
        attrs[Attr.localUniqueID] = ctx.localUniqueId;
        own = addCaps(own, Cap.sourceLocalUnique);
      }
      const { op, ...base } = opBase(ctx, own);
      // Only image sources depend on the platform.
      if (!/^(docker-image|oci-layout):\/\//.test(this.#id)) delete op.platform;
      return encodeOp({ source: { identifier: this.#id, attrs: sortedRecord(attrs) }, ...op }, base);
    });
  }
}

function sourceState(id: string, attrs: Record<string, string>, constraints: Constraints): State {
  return new State(simpleOutput(new SourceOp(id, attrs, constraints), constraints.platform));
}

/** Map entries go on the wire in key order; protobufjs writes them in insertion order. */
export function sortedRecord(r: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k]!;
  return out;
}

/** The empty filesystem. */
export function scratch(): State {
  return new State();
}

export type ResolveMode = "default" | "pull" | "local";

export interface ImageOptions extends OpOptions {
  /** "pull" always checks the registry; "local" prefers an image already present. */
  resolveMode?: ResolveMode;
  layerLimit?: number;
  /** What the pulled image is for in `du` ("frontend" for a gateway frontend's image, "internal"). */
  recordType?: string;
}

/** A registry image, e.g. `image("busybox")` → docker-image://docker.io/library/busybox:latest. */
export function image(ref: string, opts: ImageOptions = {}): State {
  let normalized: string;
  try {
    normalized = normalizeImageRef(ref);
  } catch (err) {
    throw new LLBError(`image: ${(err as Error).message}`);
  }
  const attrs: Record<string, string> = {};
  const caps: CapID[] = [Cap.sourceImage];
  if (opts.resolveMode && opts.resolveMode !== "default") {
    attrs[Attr.imageResolveMode] = opts.resolveMode === "pull" ? "pull" : "local";
    if (opts.resolveMode === "pull") caps.push(Cap.sourceImageResolveMode);
  }
  if (opts.layerLimit !== undefined) {
    attrs[Attr.imageLayerLimit] = String(opts.layerLimit);
    caps.push(Cap.sourceImageLayerLimit);
  }
  if (opts.recordType) attrs[Attr.imageRecordType] = opts.recordType;
  return sourceState(`docker-image://${normalized}`, attrs, addCaps(constraintsOf(opts), ...caps));
}

export interface GitOptions extends OpOptions {
  /** Keep the .git directory in the result. */
  keepGitDir?: boolean;
  /** Only this directory of the repository. */
  subdir?: string;
  /** Names of build secrets holding an auth token / a whole Authorization header. */
  authTokenSecret?: string;
  authHeaderSecret?: string;
  /**
   * known_hosts lines for ssh remotes. Each entry is written without its trailing newline
   * and then with one, so a list gives the lines Go's repeated KnownSSHHosts calls give.
   */
  knownSSHHosts?: string | readonly string[];
  /** The ssh agent (by id) to use for ssh remotes; default "default". */
  mountSSHSock?: string;
}

/**
 * A git repository at a ref (branch, tag or commit): `git("github.com/opencontainers/runc", "v1.1.5")`.
 * A remote without a scheme is taken as https; an absolute path is a repository on the build host.
 */
export function git(url: string, ref = "", opts: GitOptions = {}): State {
  let remote: GitRemote;
  try {
    // A remote with no scheme at all (host/path) is an https one, as in BuildKit's client.
    // An absolute path is a repository on the build host (file://).
    const withScheme = url.startsWith("/") ? `file://${url}` : /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || url.includes("@") ? url : `https://${url}`;
    remote = parseGitRemote(withScheme);
  } catch (err) {
    throw new LLBError(`git: ${(err as Error).message}`);
  }
  const subdir = opts.subdir ? cleanPath(posix.join("/", opts.subdir)).replace(/^\//, "") : "";
  // Go's llb.Git keeps the remote as written, its scheme taken off (user info, port and path
  // untouched); a repository on the build host (ours alone) is named by its path.
  let id = remote.scheme === "ssh" ? goSSHRemote(url) : remote.scheme === "file" ? remote.host + posix.join("/", remote.path) : url.replace(/^(https?|git):\/\//, "");
  if (ref || subdir) id += `#${ref}${subdir ? `:${subdir}` : ""}`;
  const attrs: Record<string, string> = {};
  const caps: CapID[] = [];
  if (opts.keepGitDir) {
    attrs[Attr.keepGitDir] = "true";
    caps.push(Cap.sourceGitKeepDir);
  }
  attrs[Attr.fullRemoteURL] = remote.remote;
  caps.push(Cap.sourceGitFullURL);
  attrs[Attr.authTokenSecret] = opts.authTokenSecret ?? "GIT_AUTH_TOKEN";
  attrs[Attr.authHeaderSecret] = opts.authHeaderSecret ?? "GIT_AUTH_HEADER";
  if (opts.authTokenSecret !== undefined || opts.authHeaderSecret !== undefined) caps.push(Cap.sourceGitHTTPAuth);
  if (remote.scheme === "ssh") {
    const hosts = typeof opts.knownSSHHosts === "string" ? [opts.knownSSHHosts] : (opts.knownSSHHosts ?? []);
    if (hosts.length) attrs[Attr.knownSSHHosts] = hosts.map((h) => `${h.replace(/\n$/, "")}\n`).join("");
    attrs[Attr.mountSSHSock] = opts.mountSSHSock ?? "default";
    caps.push(Cap.sourceGitKnownSSHHosts, Cap.sourceGitMountSSHSock);
  }
  caps.push(Cap.sourceGit);
  return sourceState(`git://${id}`, attrs, addCaps(constraintsOf(opts), ...caps));
}

/**
 * The identifier of an ssh remote as Go's llb.Git spells it: scheme and user dropped, then the
 * first ":" (scp-like path separator, or the port of ssh://host:PORT/path) made a "/".
 */
function goSSHRemote(url: string): string {
  let r = url.replace(/^ssh:\/\//, "");
  const at = r.indexOf("@");
  if (at >= 0) r = r.slice(at + 1);
  const colon = r.indexOf(":");
  return colon < 0 ? r : `${r.slice(0, colon)}/${r.slice(colon + 1)}`;
}

export interface LocalOptions extends OpOptions {
  /** Only paths matching these patterns are sent. */
  includePatterns?: readonly string[];
  excludePatterns?: readonly string[];
  /** Paths (and the links they go through) that must be sent, for partial transfers. */
  followPaths?: readonly string[];
  /** Lets different local names share a cache of a previous transfer. */
  sharedKeyHint?: string;
  /** Ties the source to one client session. */
  sessionId?: string;
  /**
   * How the transfer tells changed files apart (Go's llb.Differ): "none" sends everything,
   * "metadata" compares stat data; required: the solver must support choosing.
   */
  differ?: { type: "none" | "metadata"; required?: boolean };
}

/** A directory of the client, given at build time with `--local NAME=PATH`. */
export function local(name: string, opts: LocalOptions = {}): State {
  if (!name) throw new LLBError("local: a name is required");
  const attrs: Record<string, string> = {};
  const caps: CapID[] = [];
  if (opts.sessionId) {
    attrs[Attr.localSessionID] = opts.sessionId;
    caps.push(Cap.sourceLocalSessionID);
  }
  if (opts.includePatterns?.length) {
    attrs[Attr.includePatterns] = goJSON(opts.includePatterns);
    caps.push(Cap.sourceLocalIncludePatterns);
  }
  if (opts.followPaths?.length) {
    attrs[Attr.followPaths] = goJSON(opts.followPaths);
    caps.push(Cap.sourceLocalFollowPaths);
  }
  if (opts.excludePatterns?.length) {
    attrs[Attr.excludePatterns] = goJSON(opts.excludePatterns);
    caps.push(Cap.sourceLocalExcludePatterns);
  }
  if (opts.sharedKeyHint) {
    attrs[Attr.sharedKeyHint] = opts.sharedKeyHint;
    caps.push(Cap.sourceLocalSharedKeyHint);
  }
  if (opts.differ) {
    attrs[Attr.localDiffer] = opts.differ.type;
    if (opts.differ.required) caps.push(Cap.sourceLocalDiffer);
  }
  caps.push(Cap.sourceLocal);
  return sourceState(`local://${name}`, attrs, addCaps(constraintsOf(opts), ...caps));
}

export interface HTTPOptions extends OpOptions {
  checksum?: string;
  filename?: string;
  perm?: number;
  uid?: number;
  gid?: number;
}

/** A file downloaded over http(s), optionally verified against a checksum. */
export function http(url: string, opts: HTTPOptions = {}): State {
  const attrs: Record<string, string> = {};
  const caps: CapID[] = [];
  if (opts.checksum) {
    attrs[Attr.httpChecksum] = opts.checksum;
    caps.push(Cap.sourceHTTPChecksum);
  }
  if (opts.filename) attrs[Attr.httpFilename] = opts.filename;
  // Go's llb.Chmod keeps the permission bits only (no set-uid, set-gid, sticky).
  const perm = (opts.perm ?? 0) & 0o777;
  if (perm) {
    attrs[Attr.httpPerm] = `0${perm.toString(8)}`;
    caps.push(Cap.sourceHTTPPerm);
  }
  if (opts.uid) {
    attrs[Attr.httpUID] = String(opts.uid);
    caps.push(Cap.sourceHTTPUIDGID);
  }
  if (opts.gid) {
    attrs[Attr.httpGID] = String(opts.gid);
    caps.push(Cap.sourceHTTPUIDGID);
  }
  caps.push(Cap.sourceHTTP);
  return sourceState(url, attrs, addCaps(constraintsOf(opts), ...caps));
}

export interface OCILayoutOptions extends OpOptions {
  /** The client's content store holding the layout: "oci:"+storeId in its session (buildctl's --oci-layout STORE=DIR). */
  storeId?: string;
  /** The session serving that store; empty: the build's own session. */
  sessionId?: string;
  layerLimit?: number;
}

/**
 * An image in an OCI layout the client serves over its session (Go's llb.OCILayout): `ref` names
 * the image and must carry its digest (`NAME@sha256:…`); it is written as given, not normalized.
 */
export function ociLayout(ref: string, opts: OCILayoutOptions = {}): State {
  const attrs: Record<string, string> = {};
  if (opts.sessionId) attrs[Attr.ociLayoutSessionID] = opts.sessionId;
  if (opts.storeId) attrs[Attr.ociLayoutStoreID] = opts.storeId;
  if (opts.layerLimit !== undefined) attrs[Attr.ociLayoutLayerLimit] = String(Math.trunc(opts.layerLimit));
  return sourceState(`oci-layout://${ref}`, attrs, addCaps(constraintsOf(opts), Cap.sourceOCILayout));
}

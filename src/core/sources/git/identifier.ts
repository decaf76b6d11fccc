/**
 * A `git://` SourceOp read as BuildKit reads it (source/git/identifier.go): the identifier is
 * `git://REMOTE[#REF[:SUBDIR]]`, REMOTE without a transport is an https one, and the
 * `git.fullurl` attribute (which our client always writes) names the real remote.
 */
import { posix } from "node:path";
import { invalidArgument } from "../../errors.ts";
import { redactCredentials } from "../redact-url.ts";

export interface GitIdentifier {
  /** The remote as git is given it: a URL, an scp-like `user@host:path`, or a local path. */
  readonly remote: string;
  /** Branch, tag, commit (full or short) or "" for the remote's default branch. */
  readonly ref: string;
  /** Clean relative path of the directory that becomes the result's root; "" for the whole tree. */
  readonly subdir: string;
  readonly keepGitDir: boolean;
  /** Secrets holding an auth token or a whole Authorization header for an http(s) remote. */
  readonly authTokenSecret?: string;
  readonly authHeaderSecret?: string;
  /** SSH attributes, recorded but not wired yet (git's own ssh config and agent are used). */
  readonly knownSSHHosts?: string;
  readonly mountSSHSock?: string;
}

const TRANSPORT = /^(https?|git|ssh|file):\/\//i;
const SCP_LIKE = /^[^@/:]+@[^@/:]+:(?!\/\/)/;

/** Whether git is given `remote` as it is: a URL with a known scheme or an scp-like ssh remote. */
export function isGitTransport(remote: string): boolean {
  return TRANSPORT.test(remote) || SCP_LIKE.test(remote);
}

/** A remote without a transport: a local path stays a path, anything else becomes https. */
function withTransport(remote: string): string {
  if (isGitTransport(remote) || remote.startsWith("/")) return remote;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(remote)) throw invalidArgument(`parsing git remote "${remote}": unknown protocol`);
  return `https://${remote}`;
}

/** Whether git reaches the remote through the file system (a path or file:// URL). */
export function isFileRemote(remote: string): boolean {
  return remote.startsWith("/") || /^file:\/\//i.test(remote);
}

/** The remote with any password or token in it replaced, for messages and the kept .git's origin. */
export function redactRemote(remote: string): string {
  return redactCredentials(remote);
}

function cleanSubdir(raw: string, identifier: string): string {
  if (raw === "") return "";
  const clean = posix.normalize(`/${raw}`).replace(/^\/+|\/+$/g, "");
  const rel = posix.normalize(raw);
  if (rel === ".." || rel.startsWith("../")) throw invalidArgument(`parsing git source ${identifier}: subdir "${raw}" escapes the repository`);
  return clean === "." ? "" : clean;
}

/** Splits `REMOTE#REF:SUBDIR` (the fragment after the first `#`, the subdir after its first `:`). */
export function splitFragment(spec: string): { remote: string; ref: string; subdir: string } {
  const hash = spec.indexOf("#");
  if (hash < 0) return { remote: spec, ref: "", subdir: "" };
  const fragment = spec.slice(hash + 1);
  const colon = fragment.indexOf(":");
  return {
    remote: spec.slice(0, hash),
    ref: colon < 0 ? fragment : fragment.slice(0, colon),
    subdir: colon < 0 ? "" : fragment.slice(colon + 1),
  };
}

export function parseGitIdentifier(identifier: string, attrs: Readonly<Record<string, string>> = {}): GitIdentifier {
  if (!identifier.startsWith("git://")) throw invalidArgument(`parsing git source ${identifier}: identifier must start with git://`);
  const spec = splitFragment(identifier.slice("git://".length));
  const fullURL = attrs["git.fullurl"];
  const remote = withTransport(fullURL ? fullURL : spec.remote);
  if (remote === "" || remote === "https://") throw invalidArgument(`parsing git source ${identifier}: no remote`);
  // Both reach git's command line: neither may pass for an option.
  if (remote.startsWith("-")) throw invalidArgument(`parsing git source ${identifier}: invalid remote "${remote}"`);
  if (spec.ref.startsWith("-") || /[\s\x00-\x1f\x7f~^:?*[\\]|\.\.|@\{/.test(spec.ref)) {
    throw invalidArgument(`parsing git source ${identifier}: invalid ref "${spec.ref}"`);
  }
  return {
    remote,
    ref: spec.ref,
    subdir: cleanSubdir(spec.subdir, identifier),
    keepGitDir: attrs["git.keepgitdir"] === "true",
    ...optional("authTokenSecret", attrs["git.authtokensecret"]),
    ...optional("authHeaderSecret", attrs["git.authheadersecret"]),
    ...optional("knownSSHHosts", attrs["git.knownsshhosts"]),
    ...optional("mountSSHSock", attrs["git.mountsshsock"]),
  };
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value ? ({ [key]: value } as Partial<Record<K, string>>) : {};
}

/** How the source is named in messages: `REMOTE[#REF][:SUBDIR]`, credentials redacted. */
export function describeSource(id: Pick<GitIdentifier, "remote" | "ref" | "subdir">): string {
  const fragment = id.ref || id.subdir ? `#${id.ref}${id.subdir ? `:${id.subdir}` : ""}` : "";
  return `${redactRemote(id.remote)}${fragment}`;
}

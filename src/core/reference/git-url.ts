/**
 * Git remotes in the forms git understands: scheme URLs (https, http, git, ssh, file) and
 * scp-like `user@host:path`. A bare `host/path` has no scheme: callers treat it as https.
 */
export interface GitRemote {
  /** The remote as git should be given it. */
  readonly remote: string;
  readonly scheme: "https" | "http" | "git" | "ssh" | "file";
  readonly host: string;
  readonly path: string;
  readonly user?: string;
}

const SCHEMES = new Set(["https", "http", "git", "ssh", "file"]);
const SCP_LIKE = /^(?:([^@/:]+)@)?([^@/:]+):(?!\/\/)(.+)$/;

export class UnknownGitProtocolError extends Error {
  constructor(url: string) {
    super(`unknown git protocol in "${url}"`);
    this.name = "UnknownGitProtocolError";
  }
}

export function parseGitRemote(url: string): GitRemote {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  if (m) {
    const scheme = m[1]!.toLowerCase();
    if (!SCHEMES.has(scheme)) throw new UnknownGitProtocolError(url);
    const u = new URL(url);
    return {
      remote: url,
      scheme: scheme as GitRemote["scheme"],
      host: u.host,
      path: decodeURIComponent(u.pathname),
      user: u.username || undefined,
    };
  }
  const scp = SCP_LIKE.exec(url);
  if (scp && url.includes("@")) {
    return { remote: url, scheme: "ssh", host: scp[2]!, path: scp[3]!, user: scp[1] };
  }
  throw new UnknownGitProtocolError(url);
}

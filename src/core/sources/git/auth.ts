/**
 * HTTP auth for git remotes from build secrets, as BuildKit's git source does it: the source's
 * `git.authheadersecret` and `git.authtokensecret` name secrets (BuildKit's client names
 * GIT_AUTH_HEADER and GIT_AUTH_TOKEN by default); `NAME.HOST` is tried before `NAME`, a header
 * secret before a token one, and the first present one becomes an `http.<scope>.extraheader`
 * setting for git. A token is sent as basic auth of `x-access-token:TOKEN`. Missing secrets are
 * not errors: git's own credential mechanisms still apply.
 */
import type { GitIdentifier } from "./identifier.ts";

export type SecretReader = (name: string) => Promise<Uint8Array | undefined>;

/** The URL prefix the header applies to: all of github.com (as actions/checkout does), else the remote. */
function headerScope(remote: string): string {
  for (const prefix of ["https://github.com/", "https://www.github.com/"]) if (remote.startsWith(prefix)) return prefix;
  return remote;
}

/** `-c` settings carrying the Authorization header for this remote, or none. */
export async function gitAuthConfig(id: Pick<GitIdentifier, "remote" | "authHeaderSecret" | "authTokenSecret">, readSecret: SecretReader): Promise<string[]> {
  if (!/^https?:\/\//i.test(id.remote)) return [];
  let host: string;
  try {
    host = new URL(id.remote).host;
  } catch {
    return [];
  }
  const candidates: { name: string; token: boolean }[] = [];
  if (id.authHeaderSecret) candidates.push({ name: `${id.authHeaderSecret}.${host}`, token: false });
  if (id.authTokenSecret) candidates.push({ name: `${id.authTokenSecret}.${host}`, token: true });
  if (id.authHeaderSecret) candidates.push({ name: id.authHeaderSecret, token: false });
  if (id.authTokenSecret) candidates.push({ name: id.authTokenSecret, token: true });
  for (const c of candidates) {
    const value = await readSecret(c.name);
    if (value === undefined) continue;
    const text = new TextDecoder().decode(value).trim();
    const header = c.token ? `basic ${Buffer.from(`x-access-token:${text}`).toString("base64")}` : text;
    return [`http.${headerScope(id.remote)}.extraheader=Authorization: ${header}`];
  }
  return [];
}

/**
 * Registry authorization, the way containerd's docker authorizer does it: a host's first 401
 * tells its scheme (Basic, or Bearer with a token realm); Basic sends the credentials from
 * Docker's config; Bearer exchanges them (or nothing, anonymously) for a token per scope, kept
 * until it expires. Concurrent requests for the same token share one token request.
 */
import { BuildkitError } from "../errors.ts";
import type { Credentials, CredentialStore, DebugLog } from "./docker-config.ts";
import { networkError } from "./net-errors.ts";
import { parseWwwAuthenticate } from "./www-authenticate.ts";
import type { RegistryEndpoint } from "./hosts.ts";

type Challenge = { readonly scheme: "basic" } | { readonly scheme: "bearer"; readonly realm: string; readonly service?: string };

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

export interface Authorizer {
  /** The Authorization header for a request to the endpoint with these scopes, if any is known. */
  authorization(e: RegistryEndpoint, scopes: readonly string[], signal: AbortSignal): Promise<string | undefined>;
  /** Learns from a 401; true when a new try with fresh authorization is worth it. */
  unauthorized(e: RegistryEndpoint, scopes: readonly string[], res: Response, signal: AbortSignal): Promise<boolean>;
  /** Credentials known for the endpoint's host. */
  credentials(e: RegistryEndpoint): Promise<Credentials | undefined>;
}

export interface AuthorizerOptions {
  readonly credentials: () => Promise<CredentialStore>;
  readonly fetch: typeof fetch;
  readonly userAgent: string;
  readonly debug?: DebugLog;
  readonly now?: () => number;
}

const DEFAULT_TOKEN_SECONDS = 60;
const EXPIRY_MARGIN_MS = 5_000;

/** A token is renewed a little before it expires: 5 s early, or a tenth of a short lifetime. */
export function tokenExpiry(issuedAt: number, seconds: number): number {
  return issuedAt + seconds * 1000 - Math.min(EXPIRY_MARGIN_MS, seconds * 100);
}

function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
}

function challengeFrom(header: string | null): { challenge?: Challenge; scope?: string } {
  for (const c of parseWwwAuthenticate(header ?? "")) {
    if (c.scheme === "bearer" && c.params.realm) {
      return { challenge: { scheme: "bearer", realm: c.params.realm, service: c.params.service }, scope: c.params.scope };
    }
  }
  return parseWwwAuthenticate(header ?? "").some((c) => c.scheme === "basic") ? { challenge: { scheme: "basic" } } : {};
}

function mergeScopes(scopes: readonly string[], extra?: string): string[] {
  const all = new Set(scopes);
  for (const s of (extra ?? "").split(" ")) if (s) all.add(s);
  return [...all].sort();
}

export function createAuthorizer(opts: AuthorizerOptions): Authorizer {
  const now = opts.now ?? Date.now;
  const challenges = new Map<string, Challenge>();
  const tokens = new Map<string, CachedToken>();
  const inflight = new Map<string, Promise<CachedToken>>();
  let store: Promise<CredentialStore> | undefined;
  const credentials = async (e: RegistryEndpoint): Promise<Credentials | undefined> => {
    store ??= opts.credentials();
    return (await store).get(e.host);
  };
  const tokenKey = (e: RegistryEndpoint, scopes: readonly string[]): string => `${e.host} ${[...scopes].sort().join(" ")}`;

  const requestToken = async (e: RegistryEndpoint, c: Challenge & { scheme: "bearer" }, scopes: readonly string[], signal: AbortSignal): Promise<CachedToken> => {
    const creds = await credentials(e);
    const res = await sendTokenRequest({ challenge: c, scopes, creds, fetch: opts.fetch, userAgent: opts.userAgent, signal, tls: e.tls });
    return parseTokenResponse(res, c.realm, now());
  };

  const bearer = async (e: RegistryEndpoint, c: Challenge & { scheme: "bearer" }, scopes: readonly string[], signal: AbortSignal): Promise<string> => {
    const key = tokenKey(e, scopes);
    const cached = tokens.get(key);
    if (cached && cached.expiresAt > now()) return `Bearer ${cached.token}`;
    let pending = inflight.get(key);
    if (!pending) {
      pending = requestToken(e, c, scopes, signal).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    const token = await pending;
    tokens.set(key, token);
    return `Bearer ${token.token}`;
  };

  return {
    credentials,
    async authorization(e, scopes, signal) {
      const c = challenges.get(e.host);
      if (!c) return undefined;
      if (c.scheme === "basic") {
        const creds = await credentials(e);
        return creds ? basicHeader(creds) : undefined;
      }
      return await bearer(e, c, scopes, signal);
    },
    async unauthorized(e, scopes, res, signal) {
      const { challenge, scope } = challengeFrom(res.headers.get("www-authenticate"));
      if (!challenge) return false;
      challenges.set(e.host, challenge);
      if (challenge.scheme === "basic") {
        const creds = await credentials(e);
        if (!creds) opts.debug?.(`registry ${e.host} asks for basic auth and no credentials are known`);
        return creds !== undefined;
      }
      const merged = mergeScopes(scopes, scope);
      tokens.delete(tokenKey(e, scopes));
      tokens.delete(tokenKey(e, merged));
      await bearer(e, challenge, merged, signal);
      if (merged.join(" ") !== [...scopes].sort().join(" ")) {
        const got = tokens.get(tokenKey(e, merged));
        if (got) tokens.set(tokenKey(e, scopes), got);
      }
      return true;
    },
  };
}

interface TokenRequest {
  readonly challenge: { readonly realm: string; readonly service?: string };
  readonly scopes: readonly string[];
  readonly creds?: Credentials;
  readonly fetch: typeof fetch;
  readonly userAgent: string;
  readonly signal: AbortSignal;
  readonly tls?: RegistryEndpoint["tls"];
}

/** GET realm?service&scope (Basic credentials when known), or the OAuth2 refresh-token POST. */
async function sendTokenRequest(r: TokenRequest): Promise<Response> {
  const url = new URL(r.challenge.realm);
  const headers: Record<string, string> = { "User-Agent": r.userAgent };
  const init = { headers, signal: r.signal, tls: r.tls as BunFetchRequestInitTLS | undefined };
  try {
    if (r.creds?.identityToken) {
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: r.creds.identityToken, client_id: "buildkit-ts" });
      if (r.challenge.service) form.set("service", r.challenge.service);
      if (r.scopes.length > 0) form.set("scope", r.scopes.join(" "));
      return await r.fetch(url, { ...init, method: "POST", body: form });
    }
    if (r.challenge.service) url.searchParams.set("service", r.challenge.service);
    for (const s of r.scopes) url.searchParams.append("scope", s);
    if (r.creds) headers.Authorization = basicHeader(r.creds);
    return await r.fetch(url, init);
  } catch (err) {
    throw networkError(url.host, err);
  }
}

async function parseTokenResponse(res: Response, realm: string, at: number): Promise<CachedToken> {
  const text = await res.text();
  if (!res.ok) {
    const code = res.status === 401 || res.status === 403 ? "FailedPrecondition" : "Unavailable";
    throw new BuildkitError(code, `fetching token from ${realm}: ${res.status} ${res.statusText}`.trim());
  }
  let body: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new BuildkitError("Unavailable", `fetching token from ${realm}: answer is not JSON`);
  }
  const token = typeof body.token === "string" && body.token ? body.token : body.access_token;
  if (typeof token !== "string" || !token) throw new BuildkitError("Unavailable", `fetching token from ${realm}: answer has no token`);
  const seconds = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
  const issued = typeof body.issued_at === "string" ? Date.parse(body.issued_at) : Number.NaN;
  const start = Number.isFinite(issued) && issued <= at ? issued : at;
  return { token, expiresAt: tokenExpiry(start, seconds) };
}

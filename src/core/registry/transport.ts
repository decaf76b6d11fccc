/**
 * One registry request: authorization (one new try after a 401 challenge), bounded retries,
 * TLS settings per endpoint, plain-HTTP fallback for `insecure` hosts, and errors that read
 * `401 Unauthorized: authentication required (no credentials for HOST)`.
 */
import { BuildkitError } from "../errors.ts";
import type { ErrorCode } from "../errors.ts";
import type { Authorizer } from "./auth.ts";
import type { RegistryEndpoint } from "./hosts.ts";
import { isAbortError, isTlsError, networkError } from "./net-errors.ts";
import { withRetries } from "./retry.ts";
import type { RetryPolicy, Sleep } from "./retry.ts";

export interface RegistryRequest {
  readonly endpoint: RegistryEndpoint;
  readonly method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly url: string;
  readonly scopes: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
  /** A stream is sent once: no retries, and a 401 is final. */
  readonly body?: Uint8Array | ReadableStream<Uint8Array>;
  readonly signal: AbortSignal;
}

export interface Transport {
  send(req: RegistryRequest): Promise<Response>;
  /** The error for an unexpected answer, with the registry's own message and an auth hint. */
  statusError(req: RegistryRequest, res: Response): Promise<BuildkitError>;
}

export interface TransportOptions {
  readonly fetch: typeof fetch;
  readonly authorizer: Authorizer;
  readonly userAgent: string;
  readonly retry: RetryPolicy;
  readonly sleep?: Sleep;
  readonly debug?: (message: string) => void;
}

const MAX_ERROR_BODY = 64 << 10;

function codeForStatus(status: number): ErrorCode {
  if (status === 404) return "NotFound";
  if (status === 401 || status === 403) return "FailedPrecondition";
  if (status === 400 || status === 405 || status === 413 || status === 416) return "InvalidArgument";
  if (status === 409) return "AlreadyExists";
  if (status === 501) return "Unimplemented";
  return "Unavailable";
}

/** The messages of a distribution-spec error body `{"errors":[{"code","message"}]}`. */
export function registryErrorMessage(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] };
    const messages = (body.errors ?? []).map((e) => (typeof e.message === "string" && e.message ? e.message : String(e.code ?? "")).trim());
    const joined = messages.filter(Boolean).join("; ");
    return joined || undefined;
  } catch {
    const line = text.trim().split("\n")[0]?.slice(0, 200);
    return line || undefined;
  }
}

async function readErrorBody(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < MAX_ERROR_BODY) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } catch {
    // the message is best effort
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

export function createTransport(opts: TransportOptions): Transport {
  const plainHosts = new Set<string>();

  const fetchOnce = async (req: RegistryRequest, url: string, auth: string | undefined): Promise<Response> => {
    const headers: Record<string, string> = { "User-Agent": opts.userAgent, ...req.headers };
    if (auth) headers.Authorization = auth;
    const tls = url.startsWith("https:") ? (req.endpoint.tls as BunFetchRequestInitTLS | undefined) : undefined;
    const init: BunFetchRequestInit = { method: req.method, headers, body: req.body, signal: req.signal, tls, redirect: "follow" };
    if (req.body instanceof ReadableStream) (init as { duplex?: string }).duplex = "half";
    return await opts.fetch(url, init);
  };

  const sendWithFallback = async (req: RegistryRequest, auth: string | undefined): Promise<Response> => {
    const e = req.endpoint;
    const plainUrl = req.url.replace(/^https:/, "http:");
    if (plainHosts.has(e.host)) return await fetchOnce(req, plainUrl, auth);
    try {
      return await fetchOnce(req, req.url, auth);
    } catch (err) {
      if (!e.httpFallback || !isTlsError(err) || req.body instanceof ReadableStream) throw err;
      opts.debug?.(`registry ${e.host}: TLS failed (${(err as Error).message}), falling back to plain HTTP`);
      plainHosts.add(e.host);
      return await fetchOnce(req, plainUrl, auth);
    }
  };

  const attempt = async (req: RegistryRequest, auth: string | undefined): Promise<Response> => {
    try {
      return await withRetries(() => sendWithFallback(req, auth), {
        policy: opts.retry,
        signal: req.signal,
        sleep: opts.sleep,
        replayable: !(req.body instanceof ReadableStream),
      });
    } catch (err) {
      if (isAbortError(err) || req.signal.aborted) throw new BuildkitError("Canceled", "canceled", { cause: err });
      throw networkError(req.endpoint.host, err);
    }
  };

  const authHint = async (e: RegistryEndpoint): Promise<string> =>
    (await opts.authorizer.credentials(e)) ? ` (credentials for ${e.host} were rejected)` : ` (no credentials for ${e.host})`;

  return {
    async send(req) {
      const hinted = async <T>(p: Promise<T>): Promise<T> =>
        await p.catch(async (err: unknown) => {
          if (!(err instanceof BuildkitError) || err.code !== "FailedPrecondition") throw err;
          throw new BuildkitError(err.code, err.message + (await authHint(req.endpoint)), { cause: err });
        });
      const auth = await hinted(opts.authorizer.authorization(req.endpoint, req.scopes, req.signal));
      const res = await attempt(req, auth);
      if (res.status !== 401 || req.body instanceof ReadableStream) return res;
      if (!(await hinted(opts.authorizer.unauthorized(req.endpoint, req.scopes, res, req.signal)))) return res;
      await res.body?.cancel().catch(() => undefined);
      return await attempt(req, await hinted(opts.authorizer.authorization(req.endpoint, req.scopes, req.signal)));
    },

    async statusError(req, res) {
      const detail = registryErrorMessage(await readErrorBody(res));
      let message = `${res.status} ${res.statusText || ""}`.trim() + (detail ? `: ${detail}` : "");
      if (res.status === 401 || res.status === 403) message += await authHint(req.endpoint);
      return new BuildkitError(codeForStatus(res.status), message);
    },
  };
}

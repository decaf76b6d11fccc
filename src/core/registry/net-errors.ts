/**
 * Errors thrown by fetch (connection refused, reset, DNS, TLS), named in words and classified:
 * which are worth a retry, and which mean "the server does not speak TLS".
 */
import { BuildkitError } from "../errors.ts";

const RETRYABLE_CODES = new Set([
  "ECONNREFUSED", "ConnectionRefused", "ECONNRESET", "ConnectionClosed", "EPIPE", "ETIMEDOUT", "Timeout",
  "FailedToOpenSocket", "UND_ERR_SOCKET", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN",
]);

const WORDS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ConnectionRefused: "connection refused",
  ECONNRESET: "connection reset by peer",
  ConnectionClosed: "connection closed by peer",
  EPIPE: "broken pipe",
  ETIMEDOUT: "connection timed out",
  Timeout: "connection timed out",
  ENOTFOUND: "no such host",
  EAI_AGAIN: "temporary failure in name resolution",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network is unreachable",
  FailedToOpenSocket: "failed to open socket",
};

function codeOf(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError");
}

export function isRetryableNetworkError(err: unknown): boolean {
  if (err instanceof BuildkitError || isAbortError(err)) return false;
  const code = codeOf(err);
  return code !== undefined && RETRYABLE_CODES.has(code);
}

/** TLS failures: certificate problems and handshakes with servers that answer in plain HTTP. */
export function isTlsError(err: unknown): boolean {
  const code = codeOf(err) ?? "";
  const message = err instanceof Error ? err.message : "";
  return code === "EPROTO" || /CERT|SSL|TLS|SIGNATURE|ISSUER/i.test(code) || /certificate|ssl|tls|handshake/i.test(message);
}

/** One line for a fetch failure: "connection refused", "tls: unable to verify the first certificate". */
export function describeNetworkError(err: unknown): string {
  const code = codeOf(err);
  if (code !== undefined && WORDS[code] !== undefined) return WORDS[code];
  const message = (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
  if (isTlsError(err)) return `tls: ${message}`;
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message;
}

/** The BuildkitError for a request that never got an answer from host. */
export function networkError(host: string, err: unknown): BuildkitError {
  if (err instanceof BuildkitError) return err;
  if (isAbortError(err)) return new BuildkitError("Canceled", "canceled", { cause: err });
  const code = isTlsError(err) ? "FailedPrecondition" : "Unavailable";
  return new BuildkitError(code, `connecting to ${host}: ${describeNetworkError(err)}`, { cause: err });
}

/** The BuildkitError for a body that broke off while being read. */
export function readError(what: string, err: unknown): BuildkitError {
  if (err instanceof BuildkitError) return err;
  if (isAbortError(err)) return new BuildkitError("Canceled", "canceled", { cause: err });
  return new BuildkitError("Unavailable", `reading ${what}: ${describeNetworkError(err)}`, { cause: err });
}

/**
 * Bounded retries with exponential backoff for registry requests: connection errors, 429 and
 * 5xx are retried (429's Retry-After honoured up to the cap); other statuses are final.
 */
import { BuildkitError } from "../errors.ts";
import { isRetryableNetworkError } from "./net-errors.ts";

export interface RetryPolicy {
  /** Total tries, the first included. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 3, baseDelayMs: 200, maxDelayMs: 2000 };

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** Whether a response status is worth another try. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** The wait before try number `attempt + 1` (attempt counts from 1): base·2^(attempt-1), capped. */
export function backoffDelay(policy: RetryPolicy, attempt: number, retryAfter?: string | null): number {
  const exp = Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
  const seconds = retryAfter ? Number(retryAfter) : Number.NaN;
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, policy.maxDelayMs);
  return exp;
}

export function abortError(signal: AbortSignal): BuildkitError {
  const reason: unknown = signal.reason;
  const why = reason instanceof Error && reason.name !== "AbortError" ? reason.message : "canceled";
  return new BuildkitError("Canceled", why, { cause: reason });
}

export const defaultSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });

export interface RetryOptions {
  readonly policy: RetryPolicy;
  readonly signal: AbortSignal;
  readonly sleep?: Sleep;
  /** False when the request cannot be sent again (a streamed body): one try only. */
  readonly replayable?: boolean;
}

/** Sends until a final answer: the last response, or the last connection error thrown. */
export async function withRetries(send: () => Promise<Response>, opts: RetryOptions): Promise<Response> {
  const sleep = opts.sleep ?? defaultSleep;
  const attempts = opts.replayable === false ? 1 : Math.max(1, opts.policy.attempts);
  for (let attempt = 1; ; attempt++) {
    if (opts.signal.aborted) throw abortError(opts.signal);
    const last = attempt >= attempts;
    let res: Response;
    try {
      res = await send();
    } catch (err) {
      if (last || opts.signal.aborted || !isRetryableNetworkError(err)) throw err;
      await sleep(backoffDelay(opts.policy, attempt), opts.signal);
      continue;
    }
    if (last || !isRetryableStatus(res.status)) return res;
    await res.body?.cancel().catch(() => undefined);
    await sleep(backoffDelay(opts.policy, attempt, res.headers.get("retry-after")), opts.signal);
  }
}

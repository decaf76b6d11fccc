import { describe, expect, test } from "bun:test";
import { createRegistryClient } from "../../../src/core/registry/client.ts";
import { backoffDelay, DEFAULT_RETRY_POLICY, isRetryableStatus, withRetries } from "../../../src/core/registry/retry.ts";
import { connectionRefused, fakeFetch, never } from "./fake-fetch.ts";

const policy = DEFAULT_RETRY_POLICY;

function sleeps(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: async (ms) => void waits.push(ms) };
}

describe("retry policy", () => {
  test("which statuses are retried", () => {
    expect([429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([200, 400, 401, 403, 404, 409, 501, 505].some(isRetryableStatus)).toBe(false);
  });

  test("exponential backoff from 200 ms, capped, Retry-After honoured up to the cap", () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(policy, a))).toEqual([200, 400, 800, 1600, 2000]);
    expect(backoffDelay(policy, 1, "1")).toBe(1000);
    expect(backoffDelay(policy, 1, "600")).toBe(2000);
    expect(backoffDelay(policy, 2, "Wed, 21 Oct 2015 07:28:00 GMT")).toBe(400);
  });

  test("5xx then success: retried", async () => {
    const { sleep, waits } = sleeps();
    const fake = fakeFetch((_, n) => new Response(n < 3 ? "busy" : "ok", { status: n < 3 ? 503 : 200 }));
    const res = await withRetries(() => fake.fetch("http://x/"), { policy, signal: never, sleep });
    expect(res.status).toBe(200);
    expect(fake.calls.length).toBe(3);
    expect(waits).toEqual([200, 400]);
  });

  test("bounded: the last answer is returned after 3 tries", async () => {
    const { sleep } = sleeps();
    const fake = fakeFetch(() => new Response("slow down", { status: 429 }));
    expect((await withRetries(() => fake.fetch("http://x/"), { policy, signal: never, sleep })).status).toBe(429);
    expect(fake.calls.length).toBe(3);
  });

  test("4xx is final", async () => {
    const { sleep, waits } = sleeps();
    const fake = fakeFetch(() => new Response("no", { status: 404 }));
    expect((await withRetries(() => fake.fetch("http://x/"), { policy, signal: never, sleep })).status).toBe(404);
    expect(fake.calls.length).toBe(1);
    expect(waits).toEqual([]);
  });

  test("connection errors are retried, then thrown; other errors are not retried", async () => {
    const { sleep } = sleeps();
    const refused = fakeFetch(() => Promise.reject(connectionRefused()));
    await expect(withRetries(() => refused.fetch("http://x/"), { policy, signal: never, sleep })).rejects.toThrow("Unable to connect");
    expect(refused.calls.length).toBe(3);
    const broken = fakeFetch(() => Promise.reject(new TypeError("weird")));
    await expect(withRetries(() => broken.fetch("http://x/"), { policy, signal: never, sleep })).rejects.toThrow("weird");
    expect(broken.calls.length).toBe(1);
  });

  test("a streamed body is sent once", async () => {
    const { sleep } = sleeps();
    const fake = fakeFetch(() => new Response("", { status: 503 }));
    expect((await withRetries(() => fake.fetch("http://x/"), { policy, signal: never, sleep, replayable: false })).status).toBe(503);
    expect(fake.calls.length).toBe(1);
  });

  test("the client retries registry requests and reports the last failure in one line", async () => {
    const { sleep, waits } = sleeps();
    const fake = fakeFetch(() => Promise.reject(connectionRefused()));
    const client = createRegistryClient({ fetch: fake.fetch, sleep, dockerConfigDir: "/nonexistent" });
    await expect(client.resolve("127.0.0.1:1/x:latest", { os: "linux", architecture: "amd64" }, never)).rejects.toThrow(
      /^resolving image 127\.0\.0\.1:1\/x:latest: connecting to 127\.0\.0\.1:1: connection refused$/,
    );
    expect(fake.calls.length).toBe(3);
    expect(waits).toEqual([200, 400]);
  });

  test("an abort stops the waiting", async () => {
    const ctl = new AbortController();
    const fake = fakeFetch(() => {
      ctl.abort();
      return new Response("", { status: 503 });
    });
    await expect(withRetries(() => fake.fetch("http://x/"), { policy, signal: ctl.signal })).rejects.toMatchObject({ code: "Canceled" });
    expect(fake.calls.length).toBe(1);
  });
});

import { describe, expect, test } from "bun:test";
import { sha256 } from "../../../src/core/digest.ts";
import { readAll, verifyingStream } from "../../../src/core/registry/verify-stream.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function chunks(parts: (Uint8Array | Error)[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      const next = parts[i++];
      if (next === undefined) c.close();
      else if (next instanceof Error) c.error(next);
      else c.enqueue(next);
    },
  });
}

describe("verifying stream", () => {
  test("passes bytes through in order and ends cleanly when they match", async () => {
    const s = verifyingStream(chunks([enc("hel"), enc("lo")]), { digest: sha256("hello"), size: 5 });
    expect(await new Response(s).text()).toBe("hello");
  });

  test("size is optional", async () => {
    expect(await new Response(verifyingStream(chunks([enc("hello")]), { digest: sha256("hello") })).text()).toBe("hello");
  });

  test("a broken connection is Unavailable, an abort Canceled", async () => {
    const reset = Object.assign(new Error("socket closed"), { code: "ECONNRESET" });
    const digest = sha256("x");
    await expect(new Response(verifyingStream(chunks([enc("a"), reset]), { digest })).text()).rejects.toMatchObject({
      code: "Unavailable",
      message: `reading blob ${digest}: connection reset by peer`,
    });
    const abort = new DOMException("aborted", "AbortError");
    await expect(new Response(verifyingStream(chunks([abort]), { digest })).text()).rejects.toMatchObject({ code: "Canceled" });
  });

  test("cancelling the verified stream cancels the body", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(enc("x")), cancel: () => void (cancelled = true) });
    const reader = verifyingStream(body, { digest: sha256("x") }).getReader();
    await reader.read();
    await reader.cancel();
    expect(cancelled).toBe(true);
  });

  test("readAll refuses more than its limit", async () => {
    expect(await readAll(chunks([enc("ab"), enc("c")]), 3, "m")).toEqual(enc("abc"));
    await expect(readAll(chunks([enc("ab"), enc("cd")]), 3, "manifest x")).rejects.toThrow("reading manifest x: larger than 3 bytes");
  });
});

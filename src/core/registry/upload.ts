/**
 * Sending a blob's bytes into an upload session: one streamed `PUT <location>?digest=` with the
 * whole body, or `PATCH` requests of chunkSize bytes (Content-Range) and a closing empty PUT.
 * A failed upload's session is deleted, best effort.
 */
import type { Digest } from "../digest.ts";
import { BuildkitError } from "../errors.ts";
import type { RegistryEndpoint } from "./hosts.ts";
import type { RegistryRequest, Transport } from "./transport.ts";

export interface UploadSession {
  readonly endpoint: RegistryEndpoint;
  /** The absolute Location of the session (it changes after every PATCH). */
  readonly url: string;
  readonly scopes: readonly string[];
}

export interface UploadIO {
  readonly transport: Transport;
  readonly signal: AbortSignal;
}

const OCTETS = "application/octet-stream";

function withDigest(url: string, digest: Digest): string {
  const u = new URL(url);
  u.searchParams.set("digest", digest);
  return u.toString();
}

function request(s: UploadSession, io: UploadIO, method: RegistryRequest["method"], url: string, headers: Record<string, string>, body?: RegistryRequest["body"]): RegistryRequest {
  return { endpoint: s.endpoint, method, url, scopes: s.scopes, headers, body, signal: io.signal };
}

async function expect(io: UploadIO, req: RegistryRequest, status: number): Promise<Response> {
  const res = await io.transport.send(req);
  if (res.status !== status) throw await io.transport.statusError(req, res);
  await res.body?.cancel().catch(() => undefined);
  return res;
}

async function abandon(io: UploadIO, s: UploadSession): Promise<void> {
  try {
    const res = await io.transport.send({ ...request(s, io, "DELETE", s.url, {}), signal: AbortSignal.timeout(5000) });
    await res.body?.cancel().catch(() => undefined);
  } catch {
    // the registry expires abandoned sessions itself
  }
}

function checkDigest(res: Response, digest: Digest): void {
  const got = res.headers.get("docker-content-digest");
  if (got && got !== digest) throw new BuildkitError("Unavailable", `registry stored it as ${got}`);
}

/** PUT location?digest=… with the whole body (streamed when it is a stream). */
export async function uploadMonolithic(io: UploadIO, s: UploadSession, desc: { digest: Digest; size: number }, data: ReadableStream<Uint8Array> | Uint8Array): Promise<void> {
  const headers = { "Content-Type": OCTETS, "Content-Length": String(desc.size) };
  try {
    checkDigest(await expect(io, request(s, io, "PUT", withDigest(s.url, desc.digest), headers, data), 201), desc.digest);
  } catch (err) {
    await abandon(io, s);
    throw err;
  }
}

/** Yields data in pieces of exactly chunkSize bytes (the last may be shorter). */
async function* chunks(data: ReadableStream<Uint8Array> | Uint8Array, chunkSize: number): AsyncGenerator<Uint8Array> {
  if (data instanceof Uint8Array) {
    for (let off = 0; off < data.byteLength; off += chunkSize) yield data.subarray(off, off + chunkSize);
    return;
  }
  let buf = new Uint8Array(chunkSize);
  let fill = 0;
  for await (const piece of data) {
    let off = 0;
    while (off < piece.byteLength) {
      const n = Math.min(chunkSize - fill, piece.byteLength - off);
      buf.set(piece.subarray(off, off + n), fill);
      fill += n;
      off += n;
      if (fill === chunkSize) {
        yield buf;
        buf = new Uint8Array(chunkSize);
        fill = 0;
      }
    }
  }
  if (fill > 0) yield buf.subarray(0, fill);
}

/** PATCH chunk after chunk (each replayable, so retried), then PUT ?digest= with no body. */
export async function uploadChunked(io: UploadIO, first: UploadSession, desc: { digest: Digest; size: number }, data: ReadableStream<Uint8Array> | Uint8Array, chunkSize: number): Promise<void> {
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) throw new BuildkitError("InvalidArgument", `chunk size ${chunkSize} is not a positive integer`);
  let s = first;
  let offset = 0;
  try {
    for await (const chunk of chunks(data, chunkSize)) {
      const headers = { "Content-Type": OCTETS, "Content-Length": String(chunk.byteLength), "Content-Range": `${offset}-${offset + chunk.byteLength - 1}` };
      const res = await expect(io, request(s, io, "PATCH", s.url, headers, chunk), 202);
      const location = res.headers.get("location");
      if (location) s = { ...s, url: new URL(location, s.url).toString() };
      offset += chunk.byteLength;
    }
    if (offset !== desc.size) throw new BuildkitError("InvalidArgument", `size mismatch (expected ${desc.size} bytes, got ${offset})`);
    checkDigest(await expect(io, request(s, io, "PUT", withDigest(s.url, desc.digest), { "Content-Length": "0" }), 201), desc.digest);
  } catch (err) {
    await abandon(io, s);
    throw err;
  }
}

import { chmod, lchown, mkdir, readFile, rename, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { blobSize, ingestBlob } from "../../content/blobs.ts";
import { hexOf } from "../../digest.ts";
import type { ContentStore } from "../../worker/content-store.ts";
import type { Digest } from "../../digest.ts";
import { sha256 } from "../../digest.ts";
import { BuildkitError } from "../../errors.ts";
import type { pb } from "../../pb/index.ts";
import { DEFAULT_USER_AGENT } from "../../registry/client.ts";
import type { OpAdapter, OpContext } from "../../solver/op.ts";
import type { BuildSession } from "../../session/session.ts";
import { buildSnapshot } from "../../worker/snapshots.ts";
import { goObject, goString, omitString } from "../../cache/remote/go-json.ts";
import { redactCredentials } from "../redact-url.ts";
import type { SourceDeps } from "../source.ts";
import { fileNameFor, parseHttpIdentifier } from "./identifier.ts";
import type { HttpIdentifier } from "./identifier.ts";
import { countBytes } from "../../progress/count-bytes.ts";

export interface HttpSourceDeps extends SourceDeps {
  readonly content: ContentStore;
  /** Where what a URL returned last is remembered (ETag, digest, Last-Modified). */
  readonly httpCacheDir: string;
  readonly session: BuildSession;
  /** Told of every GET that transfers a body (tests count them). */
  readonly onDownload?: (url: string) => void;
}

/** What a URL resolved to: the content's digest, the file's name and its modification time. */
interface Resolved {
  readonly digest: Digest;
  readonly filename: string;
  /** The Last-Modified header as sent (an HTTP date), when there was one. */
  readonly lastModified?: string;
}

/** One earlier response of a URL, kept to revalidate it with If-None-Match. */
interface Remembered {
  readonly etag?: string;
  readonly digest: Digest;
  readonly lastModified?: string;
}

const REMEMBERED_MAX = 8;

/**
 * `http://` and `https://` sources: one file, downloaded. As BuildKit's http source: with a
 * pinned `http.checksum` the cache key needs no request; otherwise the URL is fetched, with the
 * ETags of earlier downloads in If-None-Match, so an unchanged resource answers 304 and is not
 * transferred again. The body goes into the content store, hashed while streaming; the key is
 * made of its digest, the file's name, permissions, owner and Last-Modified. The result holds
 * the file alone, mode `http.perm` (default 0600), owned by `http.uid`/`http.gid`, with the
 * Last-Modified time (else the epoch).
 */
export function httpSource(op: pb.SourceOp.$Properties, deps: HttpSourceDeps): OpAdapter {
  const id = parseHttpIdentifier(op.identifier ?? "", op.attrs ?? {});
  const display = redactCredentials(id.url);
  let resolved: Promise<Resolved> | undefined;
  const resolve = (ctx: OpContext): Promise<Resolved> => {
    resolved ??= id.checksum ? Promise.resolve({ digest: id.checksum, filename: fileNameFor(id) }) : revalidate(id, display, deps, ctx);
    resolved.catch(() => (resolved = undefined));
    return resolved;
  };
  return {
    async contentKey(ctx) {
      const r = await resolve(ctx);
      return cacheKey(id, r);
    },
    async remoteKeys(ctx) {
      return [buildkitCacheKey(id, await resolve(ctx))];
    },
    async provenance(ctx) {
      return { type: "http", url: id.url, digest: (await resolve(ctx)).digest };
    },
    async exec(_inputs, ctx) {
      const r = await resolve(ctx);
      let lastModified = r.lastModified ?? (await rememberedFor(deps, id, r.digest))?.lastModified;
      if ((await blobSize(deps.content, r.digest)) === undefined) {
        const got = await download(id, display, deps, ctx, []);
        if (got.kind !== "body") throw new BuildkitError("Internal", `http source ${display}: unexpected 304 without a conditional request`);
        if (got.remembered.digest !== r.digest) {
          throw new BuildkitError("FailedPrecondition", `http source ${display}: digest mismatch: got ${got.remembered.digest} (expected: ${r.digest})`);
        }
        lastModified = got.remembered.lastModified;
      }
      const snapshot = await buildSnapshot(deps.worker, undefined, (dir) => placeFile(deps.content.read(r.digest), join(dir, r.filename), id, lastModified));
      return [deps.refs.ref(snapshot)];
    },
  };
}

/** BuildKit's http cache key material, as JSON: the same facts in the same order. */
function cacheKey(id: HttpIdentifier, r: Resolved): string {
  return JSON.stringify({
    Filename: r.filename,
    Perm: id.perm,
    UID: id.uid,
    GID: id.gid,
    Checksum: r.digest,
    ...(r.lastModified ? { LastModTime: r.lastModified } : {}),
    ...(id.authHeaderSecret ? { AuthHeaderSecret: id.authHeaderSecret } : {}),
    ...(id.headers.length > 0 ? { Header: id.headers } : {}),
  });
}

/**
 * BuildKit v0.11.6's key (httpsource.go formatCacheKey): the digest of its JSON, written as Go
 * writes it, of the file name, perm, uid, gid, content digest and Last-Modified (that version
 * knows no header or auth options), so a cache exported by either side matches on the other.
 */
function buildkitCacheKey(id: HttpIdentifier, r: Resolved): string {
  const json = goObject([
    ["Filename", goString(r.filename)],
    ["Perm", String(id.perm)],
    ["UID", String(id.uid)],
    ["GID", String(id.gid)],
    ["Checksum", goString(r.digest)],
    ["LastModTime", omitString(r.lastModified)],
  ]);
  return sha256(json);
}

async function placeFile(blob: ReadableStream<Uint8Array>, dest: string, id: HttpIdentifier, lastModified: string | undefined): Promise<void> {
  await Bun.write(dest, new Response(blob));
  await chmod(dest, id.perm === 0 ? 0o600 : id.perm & 0o7777);
  if (id.uid !== 0 || id.gid !== 0) await lchown(dest, id.uid, id.gid);
  const parsed = lastModified ? Date.parse(lastModified) : NaN;
  const time = Number.isNaN(parsed) ? new Date(0) : new Date(parsed);
  await utimes(dest, time, time);
}

/** The key the remembered responses of this URL (and these options) are stored under. */
function urlKey(id: HttpIdentifier): string {
  const { url, filename, perm, uid, gid, headers, authHeaderSecret } = id;
  return hexOf(sha256(JSON.stringify({ url, filename, perm, uid, gid, headers, authHeaderSecret: authHeaderSecret ?? "" })));
}

async function loadRemembered(deps: HttpSourceDeps, id: HttpIdentifier): Promise<Remembered[]> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(deps.httpCacheDir, `${urlKey(id)}.json`), "utf8"));
    return Array.isArray(parsed) ? (parsed as Remembered[]) : [];
  } catch {
    return []; // none yet, or unreadable: the URL is simply fetched again
  }
}

async function rememberedFor(deps: HttpSourceDeps, id: HttpIdentifier, digest: Digest): Promise<Remembered | undefined> {
  return (await loadRemembered(deps, id)).find((r) => r.digest === digest);
}

/** Puts `entry` first among the URL's remembered responses (written whole, then renamed in). */
async function remember(deps: HttpSourceDeps, id: HttpIdentifier, entry: Remembered): Promise<void> {
  const others = (await loadRemembered(deps, id)).filter((r) => r.digest !== entry.digest && (entry.etag === undefined || r.etag !== entry.etag));
  const all = [entry, ...others].slice(0, REMEMBERED_MAX);
  await mkdir(deps.httpCacheDir, { recursive: true });
  const path = join(deps.httpCacheDir, `${urlKey(id)}.json`);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(all));
  await rename(temp, path);
}

/** Resolves the URL now: a 304 for a remembered ETag whose content is still stored, or a download. */
async function revalidate(id: HttpIdentifier, display: string, deps: HttpSourceDeps, ctx: OpContext): Promise<Resolved> {
  const usable: Remembered[] = [];
  for (const r of await loadRemembered(deps, id)) if (r.etag && (await blobSize(deps.content, r.digest)) !== undefined) usable.push(r);
  const { remembered, contentDisposition } = await download(id, display, deps, ctx, usable);
  const filename = fileNameFor(id, contentDisposition);
  return { digest: remembered.digest, filename, ...(remembered.lastModified ? { lastModified: remembered.lastModified } : {}) };
}

type Downloaded =
  | { kind: "body"; remembered: Remembered; contentDisposition: string | null }
  | { kind: "not-modified"; remembered: Remembered; contentDisposition: string | null };

/** Without W/: a weak ETag is compared as a strong one, as BuildKit does. */
const etagValue = (v: string) => v.replace(/^W\//, "");

async function requestHeaders(id: HttpIdentifier, display: string, session: BuildSession): Promise<Record<string, string>> {
  const headers: Record<string, string> = { "User-Agent": DEFAULT_USER_AGENT };
  for (const h of id.headers) headers[h.name] = h.value;
  const secret = async (name: string) => {
    const value = await session.secret(name);
    return value === undefined ? undefined : new TextDecoder().decode(value);
  };
  if (id.authHeaderSecret) {
    const value = await secret(id.authHeaderSecret);
    if (value === undefined) {
      throw new BuildkitError("NotFound", `http source ${display}: auth secret ${id.authHeaderSecret} not found: pass it with --secret id=${id.authHeaderSecret},src=PATH`);
    }
    headers.Authorization = value;
  } else {
    // As BuildKit: optional per-host secrets, a whole header or a bearer token.
    const host = new URL(id.url).hostname;
    const header = await secret(`HTTP_AUTH_HEADER_${host}`);
    const token = await secret(`HTTP_AUTH_TOKEN_${host}`);
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    else if (header !== undefined) headers.Authorization = header;
  }
  return headers;
}

/**
 * GETs the URL; with remembered responses, asks If-None-Match their ETags. A body is streamed
 * into the content store while hashed (nothing is kept if the transfer fails) and remembered.
 */
async function download(id: HttpIdentifier, display: string, deps: HttpSourceDeps, ctx: OpContext, known: readonly Remembered[]): Promise<Downloaded> {
  const headers = await requestHeaders(id, display, deps.session);
  if (known.length > 0) headers["If-None-Match"] = known.map((r) => r.etag).join(", ");
  let res: Response;
  try {
    res = await fetch(id.url, { headers, signal: ctx.signal, redirect: "follow" });
  } catch (err) {
    if (ctx.signal.aborted) throw new BuildkitError("Canceled", `http source ${display}: canceled`);
    throw new BuildkitError("Unavailable", `http source ${display}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const contentDisposition = res.headers.get("Content-Disposition");
  if (res.status === 304) {
    await res.body?.cancel().catch(() => {});
    let etag = res.headers.get("ETag");
    if (etag === null && known.length === 1) etag = known[0]!.etag ?? null;
    const match = etag === null ? undefined : known.find((r) => r.etag === etagValue(etag));
    if (match === undefined) throw new BuildkitError("Unavailable", `http source ${display}: invalid not-modified ETag: ${etag ?? "(none)"}`);
    await remember(deps, id, match); // first again, and used now (content GC keeps recent records)
    return { kind: "not-modified", remembered: match, contentDisposition };
  }
  if (res.status < 200 || res.status >= 400) {
    await res.body?.cancel().catch(() => {});
    const code = res.status === 404 ? "NotFound" : res.status === 401 || res.status === 403 ? "FailedPrecondition" : "Unavailable";
    throw new BuildkitError(code, `http source ${display}: invalid response status ${res.status}`);
  }
  deps.onDownload?.(id.url);
  const digest = await store(res, display, deps.content, ctx);
  if (id.checksum !== undefined && digest !== id.checksum) {
    throw new BuildkitError("FailedPrecondition", `http source ${display}: digest mismatch: got ${digest} (expected: ${id.checksum})`);
  }
  const etag = res.headers.get("ETag");
  const lastModified = res.headers.get("Last-Modified") ?? undefined;
  const remembered: Remembered = { digest, ...(etag ? { etag: etagValue(etag) } : {}), ...(lastModified ? { lastModified } : {}) };
  await remember(deps, id, remembered);
  return { kind: "body", remembered, contentDisposition };
}

/** Streams the body into the content store, hashing it; returns its digest. */
async function store(res: Response, display: string, content: ContentStore, ctx: OpContext): Promise<Digest> {
  const status = `downloading ${display}`;
  const total = Number(res.headers.get("Content-Length") ?? NaN);
  let bytes = 0;
  const counted = countBytes(res.body ?? new ReadableStream<Uint8Array>(), (n) => {
    bytes = n;
    ctx.progress.status(status, bytes, Number.isFinite(total) ? total : undefined);
  });
  let digest: Digest;
  try {
    ({ digest } = await ingestBlob(content, counted, { signal: ctx.signal }));
  } catch (err) {
    if (ctx.signal.aborted) throw new BuildkitError("Canceled", `http source ${display}: canceled`);
    if (err instanceof BuildkitError) throw err; // the store's own failure, already explained
    throw new BuildkitError("Unavailable", `http source ${display}: reading response: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  ctx.progress.status(status, bytes, bytes, true);
  return digest;
}

// An in-memory registry (distribution spec subset) behind a fake fetch, for unit tests:
// manifests GET/PUT, blobs GET/HEAD, uploads POST (with mount) / PATCH / PUT.
import { sha256 } from "../../../src/core/digest.ts";
import { fakeFetch } from "./fake-fetch.ts";
import type { FakeCall, FakeFetch } from "./fake-fetch.ts";

export interface FakeRegistry extends FakeFetch {
  /** repo → tag or digest → { bytes, mediaType } */
  readonly manifests: Map<string, Map<string, { bytes: Uint8Array; mediaType: string }>>;
  /** repo → digest → bytes */
  readonly blobs: Map<string, Map<string, Uint8Array>>;
  putManifest(repo: string, tag: string, mediaType: string, doc: unknown): string;
  putBlob(repo: string, bytes: Uint8Array): string;
}

const notFound = (): Response => Response.json({ errors: [{ code: "NOT_FOUND", message: "not found" }] }, { status: 404, statusText: "Not Found" });

function entry<K, V>(map: Map<K, Map<string, V>>, key: K): Map<string, V> {
  let m = map.get(key);
  if (!m) map.set(key, (m = new Map()));
  return m;
}

export function fakeRegistry(host: string): FakeRegistry {
  const manifests: FakeRegistry["manifests"] = new Map();
  const blobs: FakeRegistry["blobs"] = new Map();
  const uploads = new Map<string, Uint8Array[]>();
  let nextUpload = 0;

  const handle = (c: FakeCall): Response => {
    const url = new URL(c.url);
    if (url.host !== host) throw Object.assign(new TypeError("Unable to connect"), { code: "ECONNREFUSED" });
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/(.+)$/.exec(url.pathname);
    if (!m) return notFound();
    const [, repo = "", kind, rest = ""] = m;
    if (kind === "manifests") {
      if (c.method === "PUT") {
        const bytes = c.body ?? new Uint8Array();
        const digest = sha256(bytes);
        entry(manifests, repo).set(rest, { bytes, mediaType: c.headers.get("content-type") ?? "" });
        entry(manifests, repo).set(digest, { bytes, mediaType: c.headers.get("content-type") ?? "" });
        return new Response(null, { status: 201, headers: { "Docker-Content-Digest": digest } });
      }
      const found = manifests.get(repo)?.get(rest);
      if (!found) return notFound();
      return new Response(c.method === "HEAD" ? null : found.bytes, { headers: { "Content-Type": found.mediaType, "Docker-Content-Digest": sha256(found.bytes) } });
    }
    if (rest === "uploads/" && c.method === "POST") {
      const mount = url.searchParams.get("mount");
      const from = url.searchParams.get("from");
      if (mount && from && blobs.get(from)?.has(mount)) {
        entry(blobs, repo).set(mount, blobs.get(from)?.get(mount) ?? new Uint8Array());
        return new Response(null, { status: 201 });
      }
      const id = String(nextUpload++);
      uploads.set(id, []);
      return new Response(null, { status: 202, headers: { Location: `/v2/${repo}/blobs/uploads/${id}?_state=s${id}` } });
    }
    const up = /^uploads\/(\d+)$/.exec(rest);
    if (up) {
      const parts = uploads.get(up[1] ?? "");
      if (!parts) return notFound();
      if (c.body && c.body.byteLength > 0) parts.push(c.body);
      if (c.method === "PATCH") return new Response(null, { status: 202, headers: { Location: `http://${host}/v2/${repo}/blobs/uploads/${up[1]}?_state=p${parts.length}` } });
      if (c.method === "DELETE") return new Response(null, { status: 204 });
      const bytes = new Uint8Array(Buffer.concat(parts));
      const digest = sha256(bytes);
      if (digest !== url.searchParams.get("digest")) return Response.json({ errors: [{ code: "DIGEST_INVALID", message: "provided digest did not match uploaded content" }] }, { status: 400, statusText: "Bad Request" });
      entry(blobs, repo).set(digest, bytes);
      return new Response(null, { status: 201, headers: { "Docker-Content-Digest": digest } });
    }
    const bytes = blobs.get(repo)?.get(rest);
    if (!bytes) return notFound();
    return new Response(c.method === "HEAD" ? null : bytes, { headers: { "Content-Length": String(bytes.byteLength) } });
  };

  const fake = fakeFetch(handle);
  return {
    ...fake,
    manifests,
    blobs,
    putManifest(repo, tag, mediaType, doc) {
      const bytes = new TextEncoder().encode(JSON.stringify(doc));
      entry(manifests, repo).set(tag, { bytes, mediaType });
      entry(manifests, repo).set(sha256(bytes), { bytes, mediaType });
      return sha256(bytes);
    },
    putBlob(repo, bytes) {
      entry(blobs, repo).set(sha256(bytes), bytes);
      return sha256(bytes);
    },
  };
}

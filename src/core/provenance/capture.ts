/**
 * What a build was made from, as BuildKit v0.11's solver captures it (solver/llbsolver/provenance
 * Capture): every image, git and http source of the result's graph with what it was pinned to,
 * plus the images a frontend or gateway client resolved. Build information is made from it.
 * Local sources are not captured: BuildKit's build information leaves them out.
 */
import type { Platform } from "../llb/platform.ts";
import { parseImageRef } from "../reference/docker-ref.ts";
import { redactCredentials } from "../sources/redact-url.ts";

/** One source and its pin (the resolved digest, the commit). */
export type SourceProvenance =
  | {
      readonly type: "docker-image";
      /** The reference as BuildKit's identifier writes it (normalized, ":latest" when untagged), or as a frontend asked for it. */
      readonly ref: string;
      /** Absent where the resolution named none (a gateway client's ResolveImageConfig without one). */
      readonly platform?: Platform;
      /** The digest the reference resolved to: the index's when it names an index. */
      readonly digest: string;
    }
  | { readonly type: "git"; readonly url: string; readonly commit: string }
  | { readonly type: "http"; readonly url: string; readonly digest: string }
  /** A client directory a frontend read outside the build's graph (the Dockerfile's): provenance lists it, build information does not. */
  | { readonly type: "local"; readonly name: string }
  /** An image from a client's OCI layout (BuildKit's "local images"): a provenance material, not in build information. */
  | { readonly type: "oci-layout"; readonly ref: string; readonly platform?: Platform; readonly digest: string };

type ImageSource = Extract<SourceProvenance, { type: "docker-image" }>;
type GitSource = Extract<SourceProvenance, { type: "git" }>;
type HttpSource = Extract<SourceProvenance, { type: "http" }>;
type LocalImageSource = Extract<SourceProvenance, { type: "oci-layout" }>;

/** Go compares platform pointers: two absent ones are equal, one absent one is not. */
export function samePlatform(a: Platform | undefined, b: Platform | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.architecture === b.architecture && a.os === b.os && (a.variant ?? "") === (b.variant ?? "");
}

/** Sources deduplicated as BuildKit's Capture adds them. */
export class SourceCapture {
  readonly images: ImageSource[] = [];
  readonly git: GitSource[] = [];
  readonly http: HttpSource[] = [];
  /** Build information leaves these out; provenance lists them after the others (Capture.LocalImages). */
  readonly localImages: LocalImageSource[] = [];

  add(s: SourceProvenance): void {
    switch (s.type) {
      case "docker-image":
        if (!this.images.some((v) => v.ref === s.ref && samePlatform(v.platform, s.platform))) this.images.push(s);
        return;
      case "git": {
        const url = redactCredentials(s.url);
        if (!this.git.some((v) => v.url === url)) this.git.push({ ...s, url });
        return;
      }
      case "http": {
        const url = redactCredentials(s.url);
        if (!this.http.some((v) => v.url === url)) this.http.push({ ...s, url });
        return;
      }
      case "oci-layout":
        if (!this.localImages.some((v) => v.ref === s.ref && samePlatform(v.platform, s.platform))) this.localImages.push(s);
        return;
      case "local":
        return;
    }
  }

  addAll(sources: Iterable<SourceProvenance>): this {
    for (const s of sources) this.add(s);
    return this;
  }

  /**
   * Drops a digest reference whose name and tag (":latest" when it has none) is also captured
   * by tag, then sorts each kind (OptimizeImageSources, then Sort). A frontend that resolved
   * `busybox:latest` and pinned its source to `busybox:latest@sha256:…` is left with the first.
   */
  finish(): this {
    const named = (ref: string) => {
      try {
        const r = parseImageRef(ref);
        return { canonical: r.digest !== undefined, nameTag: `${r.domain}/${r.path}:${r.tag ?? "latest"}` };
      } catch {
        return { canonical: false, nameTag: ref }; // resolved already, so never reached in practice
      }
    };
    const byTag = new Set(this.images.map((i) => named(i.ref)).filter((n) => !n.canonical).map((n) => n.nameTag));
    const kept = this.images.filter((i) => {
      const n = named(i.ref);
      return !(n.canonical && byTag.has(n.nameTag));
    });
    this.images.splice(0, this.images.length, ...kept.sort((a, b) => compare(a.ref, b.ref)));
    this.git.sort((a, b) => compare(a.url, b.url));
    this.http.sort((a, b) => compare(a.url, b.url));
    this.localImages.sort((a, b) => compare(a.ref, b.ref));
    return this;
  }
}

/** Go's string order (bytes; the same as UTF-16 code units below U+D800, which references stay within). */
export const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

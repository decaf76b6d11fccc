/**
 * Image references, normalised the way Docker and BuildKit do:
 * `busybox` → `docker.io/library/busybox:latest`, `localhost:5000/a/b` → `localhost:5000/a/b:latest`.
 */
export interface ImageRef {
  /** Registry host (and port), e.g. "docker.io" or "127.0.0.1:5000". */
  readonly domain: string;
  /** Repository path within the registry, e.g. "library/busybox". */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
}

const DEFAULT_DOMAIN = "docker.io";
const LEGACY_DOMAIN = "index.docker.io";
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$|^\[[a-fA-F0-9:]+\](?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

export class ReferenceError extends Error {
  constructor(ref: string, why: string) {
    super(`invalid reference "${ref}": ${why}`);
    this.name = "ReferenceError";
  }
}

/** Parses and normalises a reference; adds the `latest` tag when it has neither tag nor digest. */
export function parseImageRef(ref: string): ImageRef {
  if (ref === "") throw new ReferenceError(ref, "empty");
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ReferenceError(ref, "invalid digest");
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ReferenceError(ref, "invalid tag");
  }
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const slash = rest.indexOf("/");
  const first = slash >= 0 ? rest.slice(0, slash) : "";
  if (slash >= 0 && (/[.:]/.test(first) || first === "localhost" || first.toLowerCase() !== first)) {
    domain = first;
    path = rest.slice(slash + 1);
    if (!DOMAIN.test(domain)) throw new ReferenceError(ref, "invalid registry host");
  }
  if (domain === LEGACY_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes("/")) path = `library/${path}`;
  if (path.toLowerCase() !== path) throw new ReferenceError(ref, "repository name must be lowercase");
  if (!path.split("/").every((c) => COMPONENT.test(c))) throw new ReferenceError(ref, "invalid repository name");
  if (domain.length + path.length + 1 > 255) throw new ReferenceError(ref, "repository name too long");
  if (!tag && !digest) tag = "latest";
  return { domain, path, tag, digest };
}

/** The repository part: `docker.io/library/busybox`. */
export function repositoryOf(r: ImageRef): string {
  return `${r.domain}/${r.path}`;
}

export function formatImageRef(r: ImageRef): string {
  return repositoryOf(r) + (r.tag ? `:${r.tag}` : "") + (r.digest ? `@${r.digest}` : "");
}

export function normalizeImageRef(ref: string): string {
  return formatImageRef(parseImageRef(ref));
}

/** `docker.io/library/busybox:latest` → `busybox:latest`: the short form (Go's FamiliarString), as `docker save` names repos. */
export function familiarName(ref: ImageRef): string {
  const full = formatImageRef(ref);
  if (ref.domain !== DEFAULT_DOMAIN) return full;
  return full.slice(`${DEFAULT_DOMAIN}/`.length).replace(/^library\/(?=[^/]+$)/, "");
}

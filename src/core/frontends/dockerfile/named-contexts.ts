/**
 * Named build contexts (`--opt context:NAME=SPEC`, what buildx's --build-context sends), as
 * BuildKit v0.11's Dockerfile builder reads them (contextByName): a stage name, a base image or
 * a COPY --from / RUN --mount from= name the client maps to another source. NAME is the short
 * form of the name (`alpine` for docker.io/library/alpine:latest); `context:NAME::PLATFORM` is
 * tried first. SPEC: `docker-image://REF` (or `docker-image://scratch`), whose config the stage
 * takes, `local:DIR` (a --local name, sent with its own .dockerignore applied), a git repository
 * (`git://…`, `https://….git#ref:subdir`, `git@host:path`; its .git kept), an http(s) file, or
 * `oci-layout://STORE@sha256:…`: that image in the client's OCI layout STORE (buildctl's
 * --oci-layout STORE=DIR), whose config the stage takes. input contexts are refused.
 */
import { BuildkitError } from "../../errors.ts";
import { git, http, image, local, ociLayout, scratch, type Platform, type ResolveMode } from "../../llb/index.ts";
import { formatPlatform, normalizePlatform } from "../../llb/platform.ts";
import { familiarName, normalizeImageRef, parseImageRef, repositoryOf } from "../../reference/docker-ref.ts";
import type { OciStoreRef } from "../frontend.ts";
import type { NamedContext } from "./convert.ts";
import { parseDockerignore } from "./daemonless.ts";
import type { DockerfileImage } from "./image-config.ts";

/** What resolving a named context needs of the frontend: image configs and the client's files, each shown as a vertex. */
export interface NamedContextDeps {
  /** store: resolve in the client's OCI layout (BuildKit's ResolverTypeOCILayout) instead of a registry. */
  resolveImageConfig(ref: string, platform: Platform, resolveMode: ResolveMode, logName: string, store?: OciStoreRef): Promise<{ digest: string; config: Uint8Array }>;
  readFile(local: string, path: string, vertexName: string): Promise<Uint8Array | undefined>;
  /** The client's session the local sources name (local.session), when the frontend runs through the gateway. */
  readonly sessionId?: string;
}

/** `context:…` attributes, without the prefix: NAME or NAME::PLATFORM → SPEC. */
export type NamedContextSpecs = Readonly<Record<string, string>>;

export async function namedContext(specs: NamedContextSpecs, name: string, platform: Platform, resolveMode: ResolveMode, deps: NamedContextDeps): Promise<NamedContext | undefined> {
  if (Object.keys(specs).length === 0) return undefined;
  let short: string;
  try {
    short = familiarName(parseImageRef(name)).replace(/:latest$/, "");
  } catch (err) {
    throw new BuildkitError("InvalidArgument", `invalid context name ${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const pname of [`${short}::${formatPlatform(normalizePlatform(platform))}`, short]) {
    const spec = specs[pname];
    if (spec !== undefined) return await resolveSpec({ short, pname }, spec, platform, resolveMode, deps);
  }
  return undefined;
}

async function resolveSpec(names: { short: string; pname: string }, spec: string, platform: Platform, resolveMode: ResolveMode, deps: NamedContextDeps): Promise<NamedContext> {
  const { pname } = names;
  const colon = spec.indexOf(":");
  if (colon < 0) throw new BuildkitError("InvalidArgument", `invalid context specifier ${spec} for ${pname}`);
  const kind = spec.startsWith("git@") ? "git" : spec.slice(0, colon);
  const rest = spec.slice(colon + 1);
  switch (kind) {
    case "docker-image": {
      const ref = rest.replace(/^\/\//, "");
      if (ref === "scratch") return { state: scratch() };
      let normalized: string;
      try {
        normalized = normalizeImageRef(ref);
      } catch (err) {
        throw new BuildkitError("InvalidArgument", `context ${pname}: ${ref}: ${err instanceof Error ? err.message : String(err)}`);
      }
      // The config of the name as tagged; the source itself is the reference as given (unpinned), as BuildKit makes it.
      const { config } = await deps.resolveImageConfig(normalized, platform, resolveMode, `[context ${pname}] load metadata for ${ref}`);
      const img = JSON.parse(new TextDecoder().decode(config)) as DockerfileImage;
      delete img.created;
      img.config ??= {};
      return { state: image(ref, { platform, name: `[context ${pname}] ${ref}` }).withImageConfig(img), image: img };
    }
    case "local": {
      const ignore = await deps.readFile(rest, ".dockerignore", `[context ${pname}] load .dockerignore`);
      const excludes = ignore === undefined ? [] : parseDockerignore(new TextDecoder().decode(ignore));
      return { state: local(rest, { name: `[context ${pname}] load from client`, sharedKeyHint: `context:${pname}`, ...(deps.sessionId ? { sessionId: deps.sessionId } : {}), ...(excludes.length > 0 ? { excludePatterns: excludes } : {}) }) };
    }
    case "git":
    case "http":
    case "https": {
      // A git repository (kept with its .git, as detectGitContext does), else for http(s) a file download.
      const g = parseGitRef(spec);
      if (g) return { state: git(g.remote, g.subdir ? `${g.commit}:${g.subdir}` : g.commit, { keepGitDir: true, name: `[internal] load git source ${spec}` }) };
      if (kind === "git") throw new BuildkitError("InvalidArgument", `invalid git context ${spec}`);
      return { state: http(spec, { name: `[context ${pname}] ${spec}` }) };
    }
    case "oci-layout":
      return ociLayoutContext(names, rest.replace(/^\/\//, ""), platform, resolveMode, deps);
    case "input":
      throw new BuildkitError("Unimplemented", `context ${pname}: ${kind} contexts are not supported (docker-image://, local:, oci-layout://, git and http(s) are)`);
    default:
      throw new BuildkitError("InvalidArgument", `unsupported context source ${kind} for ${pname}`);
  }
}

/**
 * `oci-layout://STORE[:TAG]@DIGEST`: the image DIGEST in the client's layout STORE. As BuildKit's
 * builder: the source is named after the context (`docker.io/library/NAME@DIGEST`, NAME's tag
 * kept), its store is STORE as written, and its config is resolved in that store.
 */
async function ociLayoutContext(names: { short: string; pname: string }, refSpec: string, platform: Platform, resolveMode: ResolveMode, deps: NamedContextDeps): Promise<NamedContext> {
  const { short, pname } = names;
  const at = refSpec.indexOf("@");
  try {
    parseImageRef(refSpec);
  } catch (err) {
    throw new BuildkitError("InvalidArgument", `could not parse oci-layout reference ${JSON.stringify(refSpec)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const digest = at < 0 ? "" : refSpec.slice(at + 1);
  if (digest === "") throw new BuildkitError("InvalidArgument", `oci-layout reference ${JSON.stringify(refSpec)} has no digest`);
  // distribution's Named.Name(): the reference without tag or digest, not normalized.
  const named = refSpec.slice(0, at);
  const storeId = named.replace(/:[^/]*$/, "");
  const shortName = short.split("@")[0]!;
  const tag = /:[^/]*$/.exec(shortName)?.[0] ?? "";
  const dummyRef = `${repositoryOf(parseImageRef(shortName))}${tag}@${digest}`;
  const store = { storeId, ...(deps.sessionId ? { sessionId: deps.sessionId } : {}) };
  const { config } = await deps.resolveImageConfig(dummyRef, platform, resolveMode, `[context ${pname}] load metadata for ${dummyRef}`, store);
  let img: DockerfileImage;
  try {
    img = JSON.parse(new TextDecoder().decode(config)) as DockerfileImage;
  } catch (err) {
    throw new BuildkitError("InvalidArgument", `could not parse oci-layout image config: ${err instanceof Error ? err.message : String(err)}`);
  }
  // Unlike a docker-image context, BuildKit v0.11 keeps the layout image's creation time.
  img.config ??= {};
  const state = ociLayout(dummyRef, { name: `[context ${pname}] OCI load from client`, platform, ...store }).withImageConfig(img);
  return { state, image: img };
}

/** A git reference as BuildKit's gitutil.ParseGitRef reads one; undefined when it is none. */
export function parseGitRef(ref: string): { remote: string; commit: string; subdir: string } | undefined {
  if (!ref.startsWith("github.com/")) {
    const proto = /^(https?|git|ssh):\/\//.exec(ref)?.[1] ?? (/^[a-zA-Z0-9-_]+@[a-zA-Z0-9-.]+:.*$/.test(ref) ? "ssh" : undefined);
    if (proto === undefined) return undefined;
    // An http(s) URL is a git repository only with a ".git" suffix (before any fragment).
    if ((proto === "http" || proto === "https") && !/\.git(?:#.+)?$/.test(ref)) return undefined;
  }
  const hash = ref.indexOf("#");
  const remote = hash < 0 ? ref : ref.slice(0, hash);
  if (remote === "") return undefined;
  const fragment = hash < 0 ? "" : ref.slice(hash + 1);
  const colon = fragment.indexOf(":");
  return { remote, commit: colon < 0 ? fragment : fragment.slice(0, colon), subdir: colon < 0 ? "" : fragment.slice(colon + 1) };
}

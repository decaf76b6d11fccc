/**
 * Build information, as BuildKit v0.11 writes it (util/buildinfo, deprecated there and gone in
 * v0.12, but on by default in v0.11): the frontend, its attributes and the pinned sources of a
 * build. The solve response carries it as `containerimage.buildinfo` (base64 JSON), and image
 * exporters put it, attributes left out unless `buildinfo-attrs=true`, into the image config
 * under `moby.buildkit.buildinfo.v1`, so it is part of the image's digest.
 */
import { goJSON, goSorted } from "../go-json.ts";
import { redactCredentials } from "../sources/redact-url.ts";
import { compare, type SourceCapture } from "./capture.ts";

/** The result metadata key and response key (exptypes.ExporterBuildInfo). */
export const BUILDINFO_METADATA_KEY = "containerimage.buildinfo";
/** The image config key (binfotypes.ImageConfigField). */
export const BUILDINFO_CONFIG_KEY = "moby.buildkit.buildinfo.v1";

/** Who made the result: the frontend and its attributes; neither for a plain definition. */
export interface BuildOrigin {
  readonly frontend?: string;
  readonly args?: Readonly<Record<string, string>>;
}

interface InfoSource {
  readonly type: string;
  readonly ref: string;
  readonly alias?: string;
  readonly pin: string;
}

interface BuildInfo {
  readonly frontend?: string;
  readonly attrs?: Readonly<Record<string, string | null>>;
  readonly sources?: readonly InfoSource[];
  readonly deps?: Readonly<Record<string, unknown>>;
}

/** Frontend attributes that describe the host, not the build, and are left out (provenance.FilterArgs). */
const HOST_SPECIFIC = new Set(["cgroup-parent", "image-resolve-mode", "platform", "cache-imports"]);

/** A frontend's attributes as build information records them: host-specific ones out, context URLs redacted. */
export function recordedArgs(opts: Readonly<Record<string, string>>): Record<string, string> {
  const contextKey = opts.contextkey || "context";
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts)) {
    if (HOST_SPECIFIC.has(k) || k.startsWith("attest:")) continue;
    out[k] = k === contextKey || k.startsWith("context:") ? redactCredentials(v) : v;
  }
  return out;
}

/** The build information of a finished capture (buildinfo.FromProvenance, then json.Marshal). */
export function buildInfo(capture: SourceCapture, origin: BuildOrigin): Uint8Array {
  const sources: InfoSource[] = [
    ...capture.images.map((s) => ({ type: "docker-image", ref: s.ref, pin: s.digest })),
    ...capture.http.map((s) => ({ type: "http", ref: s.url, pin: s.digest })),
    ...capture.git.map((s) => ({ type: "git", ref: s.url, pin: s.commit })),
  ].sort((a, b) => compare(a.ref, b.ref));
  return marshal({ frontend: origin.frontend, attrs: origin.args, sources });
}

/**
 * The form image exporters embed (buildinfo.Format): attributes removed unless asked for.
 * undefined when there is none (the config then carries no build information).
 */
export function formatBuildInfo(raw: Uint8Array | undefined, opts: { keepAttrs: boolean }): Uint8Array | undefined {
  if (raw === undefined || raw.byteLength === 0) return undefined;
  let info: BuildInfo;
  try {
    info = JSON.parse(new TextDecoder().decode(raw)) as BuildInfo;
  } catch (err) {
    throw new Error(`failed to unmarshal buildinfo for formatting: ${err instanceof Error ? err.message : String(err)}`);
  }
  return marshal(opts.keepAttrs ? info : { ...info, attrs: undefined });
}

/** binfotypes.BuildInfo's field order, omitempty applied; attrs is a Go map (sorted keys). */
function marshal(info: BuildInfo): Uint8Array {
  const attrs = info.attrs && Object.keys(info.attrs).length > 0 ? goSorted(info.attrs) : undefined;
  const deps = info.deps && Object.keys(info.deps).length > 0 ? goSorted(info.deps) : undefined;
  return new TextEncoder().encode(
    goJSON({
      ...(info.frontend ? { frontend: info.frontend } : {}),
      ...(attrs ? { attrs } : {}),
      ...(info.sources?.length ? { sources: info.sources.map(goSource) } : {}),
      ...(deps ? { deps } : {}),
    }),
  );
}

const goSource = (s: InfoSource): InfoSource => ({
  ...(s.type ? { type: s.type } : {}),
  ...(s.ref ? { ref: s.ref } : {}),
  ...(s.alias ? { alias: s.alias } : {}),
  ...(s.pin ? { pin: s.pin } : {}),
}) as InfoSource;

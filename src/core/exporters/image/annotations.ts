/**
 * `annotation.*` exporter attributes, as BuildKit's image exporters read them
 * (exporter/containerimage/exptypes/annotations.go): `annotation[-TYPE][[PLATFORM]].KEY=VALUE`,
 * TYPE one of manifest (the default), manifest-descriptor, index, index-descriptor; a platform
 * limits a manifest annotation to that platform's image.
 */
import { invalidArgument } from "../../errors.ts";
import { formatPlatform, normalizePlatform, parsePlatform, type Platform } from "../../llb/platform.ts";

export type AnnotationKind = "manifest" | "manifest-descriptor" | "index" | "index-descriptor";

export interface AnnotationAttr {
  readonly kind: AnnotationKind;
  /** The normalized platform ("linux/arm64/v8") a manifest annotation is limited to. */
  readonly platform?: string;
  readonly key: string;
  readonly value: string;
}

/** The annotations that apply to one image, by where they go. */
export interface ImageAnnotations {
  readonly manifest: Readonly<Record<string, string>>;
  readonly manifestDescriptor: Readonly<Record<string, string>>;
  readonly index: Readonly<Record<string, string>>;
  readonly indexDescriptor: Readonly<Record<string, string>>;
}

const KEY = /^annotation(?:-([a-z-]+))?(?:\[([A-Za-z0-9_/-]+)\])?\.(\S+)$/;
const KINDS: readonly AnnotationKind[] = ["manifest", "manifest-descriptor", "index", "index-descriptor"];

/** Whether an attribute name is meant as an annotation (a malformed one still fails in parse). */
export function isAnnotationAttr(name: string): boolean {
  return name.startsWith("annotation.") || name.startsWith("annotation-") || name.startsWith("annotation[");
}

export function parseAnnotationAttrs(type: string, attrs: Readonly<Record<string, string>>): AnnotationAttr[] {
  const out: AnnotationAttr[] = [];
  for (const [name, value] of Object.entries(attrs)) {
    if (!isAnnotationAttr(name)) continue;
    const m = KEY.exec(name);
    if (!m) throw invalidArgument(`output type=${type}: ${name}: expected annotation[-TYPE][[PLATFORM]].KEY`);
    const [, kindText = "manifest", platformText, key = ""] = m;
    const kind = KINDS.find((k) => k === kindText);
    if (!kind) throw invalidArgument(`output type=${type}: ${name}: unrecognized annotation type ${kindText} (known: ${KINDS.join(", ")})`);
    let platform: string | undefined;
    if (platformText !== undefined && kind.startsWith("manifest")) {
      try {
        platform = formatPlatform(normalizePlatform(parsePlatform(platformText)));
      } catch (err) {
        throw invalidArgument(`output type=${type}: ${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    out.push({ kind, key, value, ...(platform ? { platform } : {}) });
  }
  return out;
}

/**
 * The annotations of the image for platform: index ones whatever their platform, manifest
 * ones without a platform or with this one. A platform that is none of the result's (`all`,
 * several for a multi-platform result) is an error, as BuildKit's "no platform found in source".
 */
export function annotationsFor(type: string, attrs: readonly AnnotationAttr[], platform: Platform, all: readonly Platform[] = [platform]): ImageAnnotations {
  const own = formatPlatform(normalizePlatform(platform));
  const known = new Set(all.map((p) => formatPlatform(normalizePlatform(p))));
  const out = { manifest: {}, manifestDescriptor: {}, index: {}, indexDescriptor: {} } as { [K in keyof ImageAnnotations]: Record<string, string> };
  const field = { manifest: "manifest", "manifest-descriptor": "manifestDescriptor", index: "index", "index-descriptor": "indexDescriptor" } as const;
  for (const a of attrs) {
    if (a.platform !== undefined && !known.has(a.platform)) throw invalidArgument(`output type=${type}: annotation for platform ${a.platform}, but the result is ${[...known].join(", ")}`);
    if (a.platform !== undefined && a.platform !== own) continue;
    out[field[a.kind]][a.key] = a.value;
  }
  return out;
}

/**
 * Package URLs for images, as BuildKit's util/purl RefToPURL writes them with packageurl-go:
 * `pkg:docker/NAMESPACE/NAME@TAG?digest=…&platform=…`. The name is the familiar one (docker.io
 * and library/ dropped); namespace parts and the name are query-escaped (a registry's port colon
 * becomes %3A), the version and qualifier values path-escaped (the platform's slashes become %2F).
 */
import { formatPlatform, normalizePlatform, type Platform } from "../llb/platform.ts";
import { familiarName, parseImageRef } from "../reference/docker-ref.ts";

/** An image reference (and the platform it was resolved for) as a package URL; throws on a bad reference. */
export function refToPurl(ref: string, platform?: Platform): string {
  let parsed;
  try {
    parsed = parseImageRef(ref);
  } catch (err) {
    throw new Error(`failed to parse ref ${JSON.stringify(ref)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const qualifiers: [string, string][] = [];
  if (parsed.digest !== undefined) qualifiers.push(["digest", parsed.digest]);
  // A digest-only reference keeps no tag; a name alone gets "latest" (reference.TagNameOnly).
  const version = parsed.tag ?? "";
  const name = familiarName({ domain: parsed.domain, path: parsed.path });
  const parts = name.split("/");
  const last = parts.pop() ?? "";
  if (platform !== undefined) qualifiers.push(["platform", formatPlatform(normalizePlatform(platform))]);
  let out = "pkg:docker/";
  if (parts.length > 0) out += `${parts.map(queryEscape).join("/")}/`;
  out += queryEscape(last);
  if (version !== "") out += `@${pathEscape(version)}`;
  if (qualifiers.length > 0) out += `?${qualifiers.map(([k, v]) => `${k}=${pathEscape(v)}`).join("&")}`;
  return out;
}

const UNRESERVED = /[A-Za-z0-9\-_.~]/;

/** Go's url.QueryEscape: all but unreserved characters percent-encoded, a space as "+". */
export function queryEscape(s: string): string {
  return escapeWith(s, (ch) => UNRESERVED.test(ch), true);
}

/** Go's url.PathEscape (a path segment): unreserved characters and $&+:=@ kept. */
export function pathEscape(s: string): string {
  return escapeWith(s, (ch) => UNRESERVED.test(ch) || "$&+:=@".includes(ch), false);
}

function escapeWith(s: string, keep: (ch: string) => boolean, spaceAsPlus: boolean): string {
  let out = "";
  for (const byte of new TextEncoder().encode(s)) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && keep(ch)) out += ch;
    else if (spaceAsPlus && ch === " ") out += "+";
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

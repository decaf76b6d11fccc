/**
 * An `http://` or `https://` SourceOp read as BuildKit reads it: the identifier is the URL
 * itself, and attributes pin a checksum, name the file, set its permissions and owner, add
 * request headers (only Accept and User-Agent, as BuildKit allows) and name an auth secret.
 */
import type { Digest } from "../../digest.ts";
import { isDigest } from "../../digest.ts";
import { invalidArgument } from "../../errors.ts";
import { redactCredentials } from "../redact-url.ts";

export interface HttpIdentifier {
  readonly url: string;
  /** `http.checksum`: the content must have this digest; the cache key needs no download. */
  readonly checksum?: Digest;
  /** `http.filename`, unsanitised; "" lets the response or the URL name the file. */
  readonly filename: string;
  /** `http.perm`; 0 means the default, 0600. */
  readonly perm: number;
  readonly uid: number;
  readonly gid: number;
  /** Extra request headers, sorted by name. */
  readonly headers: readonly { name: string; value: string }[];
  /** `http.authheadersecret`: the secret whose value is the Authorization header. */
  readonly authHeaderSecret?: string;
}

const ALLOWED_HEADERS = new Map([
  ["accept", "Accept"],
  ["user-agent", "User-Agent"],
]);
const HEADER_PREFIX = "http.header.";

/** Go's strconv.ParseInt(v, 0, 64): decimal, 0x hex, 0o or leading-0 octal, 0b binary. */
function parseGoInt(v: string, attr: string, url: string): number {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]+|0[bB][01_]+|[1-9][0-9_]*|0)$/.exec(v);
  if (m === null) throw invalidArgument(`http source ${redactCredentials(url)}: invalid ${attr} ${JSON.stringify(v)}`);
  let body = m[2]!.replaceAll("_", "");
  if (/^0[0-7]/.test(body)) body = `0o${body.slice(1)}`;
  const n = Number(body);
  return m[1] === "-" ? -n : n;
}

export function parseHttpIdentifier(identifier: string, attrs: Readonly<Record<string, string>>): HttpIdentifier {
  let parsed: URL;
  try {
    parsed = new URL(identifier);
  } catch {
    throw invalidArgument(`http source ${redactCredentials(identifier)}: invalid URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw invalidArgument(`http source ${redactCredentials(identifier)}: not an http or https URL`);
  }
  const url = identifier;
  let checksum: Digest | undefined;
  let filename = "";
  let perm = 0;
  let uid = 0;
  let gid = 0;
  let authHeaderSecret: string | undefined;
  const headers: { name: string; value: string }[] = [];
  for (const [key, value] of Object.entries(attrs)) {
    switch (key) {
      case "http.checksum":
        if (!isDigest(value)) throw invalidArgument(`http source ${redactCredentials(url)}: invalid checksum ${JSON.stringify(value)}`);
        checksum = value;
        break;
      case "http.filename":
        filename = value;
        break;
      case "http.perm":
        perm = parseGoInt(value, "perm", url);
        break;
      case "http.uid":
        uid = parseGoInt(value, "uid", url);
        break;
      case "http.gid":
        gid = parseGoInt(value, "gid", url);
        break;
      case "http.authheadersecret":
        authHeaderSecret = value;
        break;
      default:
        if (key.startsWith(HEADER_PREFIX)) {
          const name = ALLOWED_HEADERS.get(key.slice(HEADER_PREFIX.length).toLowerCase());
          if (name !== undefined) headers.push({ name, value });
        }
    }
  }
  headers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { url, filename, perm, uid, gid, headers, ...(checksum ? { checksum } : {}), ...(authHeaderSecret ? { authHeaderSecret } : {}) };
}

/**
 * A name that is one plain path component, as BuildKit's SafeFileName: the last element of the
 * name cleaned under "/", or "index" when nothing is left.
 */
export function safeFileName(name: string): string {
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  const stack: string[] = [];
  for (const p of parts) {
    if (p === "..") stack.pop();
    else stack.push(p);
  }
  return stack.at(-1) ?? "index";
}

/** The `filename` parameter of a Content-Disposition header, if it has a usable one. */
function dispositionFilename(header: string): string | undefined {
  const m = /;\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]+))/i.exec(header);
  const raw = m?.[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m?.[2];
  if (raw === undefined || raw === "" || raw.endsWith("/")) return undefined;
  return raw;
}

/**
 * The file's name in the result: the `http.filename` attribute, else the response's
 * Content-Disposition filename, else the URL path's last element, else "index".
 */
export function fileNameFor(id: HttpIdentifier, contentDisposition?: string | null): string {
  if (id.filename !== "") return safeFileName(id.filename);
  const fromHeader = contentDisposition ? dispositionFilename(contentDisposition) : undefined;
  if (fromHeader !== undefined) return safeFileName(fromHeader);
  let path = "";
  try {
    path = decodeURIComponent(new URL(id.url).pathname);
  } catch {
    path = "";
  }
  return safeFileName(path);
}

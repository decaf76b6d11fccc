import { posix } from "node:path";

/** Resolves p against the directory dir, keeping a trailing "/" or "/." when asked (BuildKit's normalizePath). */
export function normalizePath(dir: string, p: string, keepSlash: boolean): string {
  let out = posix.normalize(p);
  if (!posix.isAbsolute(out)) out = posix.join("/", dir, out);
  out = cleanPath(out);
  if (keepSlash) {
    if (p.endsWith("/") && !out.endsWith("/")) out += "/";
    else if (p.endsWith("/.")) out = (out === "/" ? "/" : `${out}/`) + ".";
  }
  return out;
}

/** Lexical clean like Go's path.Clean: no trailing slash, no "." or ".." left. */
export function cleanPath(p: string): string {
  if (p === "") return ".";
  const out = posix.normalize(p);
  return out.length > 1 && out.endsWith("/") ? out.slice(0, -1) : out;
}

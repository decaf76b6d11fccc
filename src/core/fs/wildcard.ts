/**
 * Go's `path/filepath.Match` on "/"-separated paths: `*` (any run of non-"/" characters),
 * `?` (one non-"/" character), `[...]` classes with `^` negation and ranges, `\` escapes.
 * A malformed pattern throws {@link BadPatternError}. Also the wildcard helpers BuildKit's
 * copy and rm use to find the part of a path that holds wildcards.
 */

export class BadPatternError extends Error {
  constructor() {
    super("syntax error in pattern");
    this.name = "BadPatternError";
  }
}

type Chars = readonly string[];

/** Splits off a leading run of stars and the chunk up to the next unbracketed star. */
function scanChunk(pattern: Chars): { star: boolean; chunk: Chars; rest: Chars } {
  let start = 0;
  while (start < pattern.length && pattern[start] === "*") start++;
  let inRange = false;
  let i = start;
  for (; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      if (i + 1 < pattern.length) i++;
    } else if (c === "[") inRange = true;
    else if (c === "]") inRange = false;
    else if (c === "*" && !inRange) break;
  }
  return { star: start > 0, chunk: pattern.slice(start, i), rest: pattern.slice(i) };
}

/** One possibly escaped class character; throws on a malformed class. */
function getEsc(chunk: Chars, at: number): { ch: string; next: number } {
  let i = at;
  if (i >= chunk.length || chunk[i] === "-" || chunk[i] === "]") throw new BadPatternError();
  if (chunk[i] === "\\") {
    i++;
    if (i >= chunk.length) throw new BadPatternError();
  }
  const ch = chunk[i] as string;
  if (i + 1 >= chunk.length) throw new BadPatternError();
  return { ch, next: i + 1 };
}

/** Matches a character class starting after "[" at `at`; returns where it ends and the result. */
function matchClass(chunk: Chars, at: number, ch: string | undefined): { next: number; ok: boolean } {
  let i = at;
  let negated = false;
  if (chunk[i] === "^") {
    negated = true;
    i++;
  }
  let match = false;
  for (let ranges = 0; ; ranges++) {
    if (chunk[i] === "]" && ranges > 0) return { next: i + 1, ok: match !== negated };
    const lo = getEsc(chunk, i);
    let hi = lo;
    if (chunk[lo.next] === "-") hi = getEsc(chunk, lo.next + 1);
    i = hi.next;
    const cp = ch === undefined ? -1 : (ch.codePointAt(0) as number);
    if ((lo.ch.codePointAt(0) as number) <= cp && cp <= (hi.ch.codePointAt(0) as number)) match = true;
  }
}

/** Matches `chunk` at the start of `s`; returns the rest of `s`, or undefined on no match. */
function matchChunk(chunk: Chars, s: Chars): Chars | undefined {
  let failed = false;
  let si = 0;
  let i = 0;
  while (i < chunk.length) {
    if (!failed && si >= s.length) failed = true;
    const c = chunk[i] as string;
    if (c === "[") {
      const ch = failed ? undefined : s[si++];
      const r = matchClass(chunk, i + 1, ch);
      i = r.next;
      if (!r.ok) failed = true;
      continue;
    }
    if (c === "?") {
      if (!failed && s[si++] === "/") failed = true;
      i++;
      continue;
    }
    if (c === "\\") {
      i++;
      if (i >= chunk.length) throw new BadPatternError();
    }
    if (!failed && chunk[i] !== s[si++]) failed = true;
    i++;
  }
  return failed ? undefined : s.slice(si);
}

/** Throws if the remaining pattern is malformed (Go checks it before reporting no match). */
function checkRest(pattern: Chars): void {
  let rest = pattern;
  while (rest.length > 0) {
    const scanned = scanChunk(rest);
    matchChunk(scanned.chunk, []);
    rest = scanned.rest;
  }
}

/** Go's filepath.Match(pattern, name) on Unix. */
export function matchWildcard(pattern: string, name: string): boolean {
  let pat: Chars = Array.from(pattern);
  let rest: Chars = Array.from(name);
  outer: while (pat.length > 0) {
    const { star, chunk, rest: after } = scanChunk(pat);
    pat = after;
    if (star && chunk.length === 0) return !rest.includes("/");
    const t = matchChunk(chunk, rest);
    if (t !== undefined && (t.length === 0 || pat.length > 0)) {
      rest = t;
      continue;
    }
    if (star) {
      for (let i = 0; i < rest.length && rest[i] !== "/"; i++) {
        const skipped = matchChunk(chunk, rest.slice(i + 1));
        if (skipped === undefined || (pat.length === 0 && skipped.length > 0)) continue;
        rest = skipped;
        continue outer;
      }
    }
    checkRest(pat);
    return false;
  }
  return rest.length === 0;
}

/** Like {@link matchWildcard}, but a malformed pattern matches nothing (as fsutil ignores it). */
export function matchWildcardLenient(pattern: string, name: string): boolean {
  try {
    return matchWildcard(pattern, name);
  } catch {
    return false;
  }
}

/** True if `name` holds an unescaped `*`, `?` or `[`. */
export function hasWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c === "\\") i++;
    else if (c === "*" || c === "?" || c === "[") return true;
  }
  return false;
}

/**
 * Splits a cleaned path at its first component with wildcards: "/a/b*\/c" → ["/a", "b*\/c"];
 * the second part is "" when there are none.
 */
export function splitWildcards(p: string): [string, string] {
  const parts = p.split("/");
  const at = parts.findIndex(hasWildcards);
  if (at < 0) return [p, ""];
  const head = parts.slice(0, at).join("/");
  return [head === "" && p.startsWith("/") ? "/" : head, parts.slice(at).join("/")];
}

/**
 * Docker's include/exclude patterns (moby/patternmatcher, as BuildKit's local source and
 * .dockerignore use them), for paths relative to a root and "/"-separated.
 *
 * - A pattern is trimmed and cleaned like Go's filepath.Clean ("a//b/" → "a/b"); a leading "/"
 *   is dropped (".dockerignore" style), so "/foo" and "foo" both mean "foo" at the root.
 * - "*" matches within one path element, "?" one character other than "/", "[...]" a class,
 *   "\" escapes; "**" matches any number of elements (also none): "**\/x", "a/**", "a/**\/b".
 * - A pattern matches a path when it matches the path itself or one of its parent directories.
 * - "!" negates; the last pattern that matches decides.
 *
 * Deliberate differences from patternmatcher: a class "[...]" is copied whole (so "[^a]" negates
 * as in filepath.Match), a backslash makes any character literal, and "^" outside a class is literal.
 * A compiled matcher is immutable and can be shared.
 */
import { invalidArgument } from "../../errors.ts";

export interface Pattern {
  /** The cleaned pattern, without its "!". */
  readonly text: string;
  readonly exclusion: boolean;
}

/**
 * The result of matching one path: `matched` is the verdict, `hits[i]` says whether pattern i
 * matched the path or one of its parents (children reuse it instead of re-checking parents).
 */
export interface MatchState {
  readonly matched: boolean;
  readonly hits: readonly boolean[];
}

export interface PatternMatcher {
  readonly patterns: readonly Pattern[];
  /** Whether the path (or a parent) matches, the last matching pattern deciding. */
  matches(relPath: string, isDir: boolean): boolean;
  /** Like `matches`, reusing the state of the parent directory when the caller has it. */
  match(relPath: string, parent?: MatchState): MatchState;
  /**
   * For a directory and its state: whether some path strictly inside it could get the opposite
   * verdict (an unmatched directory could hold matched paths, or a matched one unmatched paths).
   * When false the subtree need not be walked. Conservative: true when unsure.
   */
  mayFlipInside(dir: string, state: MatchState): boolean;
}

interface CompiledPattern extends Pattern {
  test(path: string): boolean;
  /** The pattern's path elements, each tested alone (undefined: could match anything). */
  readonly elements: readonly (RegExp | undefined)[];
}

/** Compiles patterns; throws InvalidArgument on a malformed one. `isDir` is ignored by Docker's rules. */
export function compilePatterns(patterns: readonly string[]): PatternMatcher {
  const compiled = patterns.map(normalize).filter((p) => p !== undefined).map(compileOne);
  return new Matcher(compiled);
}

class Matcher implements PatternMatcher {
  readonly #patterns: readonly CompiledPattern[];

  constructor(patterns: readonly CompiledPattern[]) {
    this.#patterns = patterns;
  }

  get patterns(): readonly Pattern[] {
    return this.#patterns.map(({ text, exclusion }) => ({ text, exclusion }));
  }

  matches(relPath: string, _isDir: boolean): boolean {
    return this.match(relPath).matched;
  }

  match(relPath: string, parent?: MatchState): MatchState {
    const hits: boolean[] = [];
    let matched = false;
    for (const [i, p] of this.#patterns.entries()) {
      const hit = (parent ? parent.hits[i] === true : matchesParent(p, relPath)) || p.test(relPath);
      hits.push(hit);
      if (hit) matched = !p.exclusion;
    }
    return { matched, hits };
  }

  mayFlipInside(dir: string, state: MatchState): boolean {
    const last = state.hits.lastIndexOf(true);
    const elements = dir.split("/");
    // Only a later pattern of the opposite polarity that misses `dir` itself can flip a child.
    return this.#patterns.some((p, i) => i > last && p.exclusion === state.matched && mayMatchBelow(p, elements));
  }
}

function matchesParent(p: CompiledPattern, relPath: string): boolean {
  for (let i = relPath.indexOf("/"); i > 0; i = relPath.indexOf("/", i + 1)) {
    if (p.test(relPath.slice(0, i))) return true;
  }
  return false;
}

/** Whether `p` could match a path strictly below the directory made of `dirElements`. */
function mayMatchBelow(p: CompiledPattern, dirElements: readonly string[]): boolean {
  for (const [i, name] of dirElements.entries()) {
    if (i >= p.elements.length) return true; // p matches an ancestor: cannot happen for a miss, stay safe
    const element = p.elements[i];
    if (element === undefined) return true;
    if (!element.test(name)) return false;
  }
  return true;
}

/** Trim, take off "!", clean like filepath.Clean, drop a leading "/". Empty → undefined. */
function normalize(raw: string): Pattern | undefined {
  let text = raw.trim();
  if (text === "") return undefined;
  const exclusion = text.startsWith("!");
  if (exclusion) text = text.slice(1).trim();
  if (text === "") throw invalidArgument(`parsing pattern ${JSON.stringify(raw)}: illegal exclusion pattern "!"`);
  text = cleanPath(text);
  if (text.length > 1 && text.startsWith("/")) text = text.slice(1);
  return { text, exclusion };
}

/** Go's path.Clean for "/"-separated paths. */
export function cleanPath(path: string): string {
  const rooted = path.startsWith("/");
  const out: string[] = [];
  for (const element of path.split("/")) {
    if (element === "" || element === ".") continue;
    if (element === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(element);
  }
  const joined = out.join("/");
  if (rooted) return `/${joined}`;
  return joined === "" ? "." : joined;
}

function compileOne(pattern: Pattern): CompiledPattern {
  const { text } = pattern;
  validateSyntax(text);
  const test = compileTest(text);
  const elements = text.split("/").map((e) => (e.includes("**") || e.includes("[") ? undefined : elementRegExp(e)));
  return { ...pattern, test, elements };
}

/** patternmatcher's fast paths (exact, "x/**" prefix, "**\/x" suffix) and its regexp otherwise. */
function compileTest(text: string): (path: string) => boolean {
  const { source, kind } = translate(text);
  switch (kind) {
    case "exact":
      return (path) => path === text;
    case "prefix": {
      const prefix = text.slice(0, -2);
      return (path) => path.startsWith(prefix);
    }
    case "suffix": {
      const suffix = text.slice(2);
      return (path) => path.endsWith(suffix) || (suffix.startsWith("/") && path === suffix.slice(1));
    }
    case "regexp": {
      const re = regExp(`^${source}$`, text);
      return (path) => re.test(path);
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown pattern kind ${String(never)}`);
    }
  }
}

type Kind = "exact" | "prefix" | "suffix" | "regexp";

/** A port of patternmatcher's compile: the regexp source and the kind of match it detected. */
function translate(text: string): { source: string; kind: Kind } {
  let source = "";
  let kind: Kind = "exact";
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (ch === "*" && text[i + 1] === "*") {
      const first = i === 0;
      i += text[i + 2] === "/" ? 2 : 1;
      if (i + 1 >= text.length) {
        if (kind === "exact") kind = "prefix";
        else [source, kind] = [`${source}.*`, "regexp"];
      } else [source, kind] = [`${source}(.*/)?`, "regexp"];
      if (first) kind = "suffix";
    } else if (ch === "*") [source, kind] = [`${source}[^/]*`, "regexp"];
    else if (ch === "?") [source, kind] = [`${source}[^/]`, "regexp"];
    else if (ch === "[") {
      const end = classEnd(text, i + 1) ?? text.length - 1;
      [source, kind] = [`${source}${text.slice(i, end + 1)}`, "regexp"];
      i = end;
    } else if (".+()|{}$^]".includes(ch)) source += `\\${ch}`;
    else if (ch === "\\" && i + 1 < text.length) [source, kind] = [`${source}${escapeChar(text.charAt(++i))}`, "regexp"];
    else if (ch === "\\") source += "\\\\";
    else source += ch;
  }
  return { source, kind };
}

function escapeChar(ch: string): string {
  return /[A-Za-z0-9]/.test(ch) ? ch : `\\${ch}`;
}

/** Go's filepath.Match for one path element: `name` has no "/"; false on a malformed pattern. */
export function matchElement(pattern: string, name: string): boolean {
  try {
    validateSyntax(pattern);
    return elementRegExp(pattern.replace(/\*{2,}/g, "*")).test(name);
  } catch {
    return false;
  }
}

/** One path element (no "/", no "**") as an anchored RegExp. */
function elementRegExp(element: string): RegExp {
  return regExp(`^${translate(element).source}$`, element);
}

function regExp(source: string, pattern: string): RegExp {
  try {
    return new RegExp(source, "s");
  } catch (err) {
    throw invalidArgument(`parsing pattern ${JSON.stringify(pattern)}: syntax error in pattern`, err);
  }
}

/** The syntax checks of Go's filepath.Match: closed, non-empty classes; no trailing "\". */
function validateSyntax(text: string): void {
  const bad = (): never => {
    throw invalidArgument(`parsing pattern ${JSON.stringify(text)}: syntax error in pattern`);
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "\\") {
      if (++i >= text.length) bad();
    } else if (ch === "[") {
      i = classEnd(text, i + 1) ?? bad();
    }
  }
}

/** The index of the "]" closing a class whose body starts at `start`, or undefined if malformed. */
function classEnd(text: string, start: number): number | undefined {
  let i: number | undefined = text[start] === "^" ? start + 1 : start;
  for (let count = 0; ; count++) {
    if (text[i] === "]" && count > 0) return i;
    i = rangeCharEnd(text, i); // lo
    if (i !== undefined && text[i] === "-") i = rangeCharEnd(text, i + 1); // hi
    if (i === undefined) return undefined;
  }
}

/** Go's getEsc: the end of one class character at `i` (maybe escaped), undefined if there is none. */
function rangeCharEnd(text: string, i: number): number | undefined {
  const ch = text[i];
  if (ch === undefined || ch === "-" || ch === "]") return undefined;
  if (ch !== "\\") return i + 1;
  return i + 1 < text.length ? i + 2 : undefined;
}

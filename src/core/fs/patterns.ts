/**
 * Docker's include/exclude patterns (moby/patternmatcher, as .dockerignore, copy's include and
 * exclude patterns and BuildKit's local source use them) for "/"-separated relative paths.
 *
 * - A pattern is trimmed; a leading "!" negates (re-includes what an earlier pattern matched).
 *   The rest is trimmed, cleaned like Go's path.Clean and loses a leading "/" (as .dockerignore).
 * - "*", "?", "[...]" and "\" mean what they mean in Go's filepath.Match (see wildcard.ts);
 *   "**" matches any number of path elements, also none: "**\/x", "a/**", "a/**\/b".
 * - A pattern matches a path when it matches the path itself or one of its parent directories,
 *   and the last pattern that matches decides.
 *
 * Kept where moby's own code strays: "\x" and "^" are literal as in filepath.Match (moby's regexp
 * reads "\d" as a digit, "^" as an anchor), and reusing a parent's state (MatchesUsingParentResults)
 * never forgets a pattern it skipped, so the last match always wins there too.
 */
import { invalidArgument } from "../errors.ts";
import { BadPatternError, matchWildcard } from "./wildcard.ts";

export interface Pattern {
  /** The cleaned pattern, without its "!". */
  readonly text: string;
  readonly exclusion: boolean;
}

/**
 * The result of matching one path: `matched` is the verdict, `hits[i]` whether pattern i matched
 * the path or a parent. Hand it to the children's {@link PatternMatcher.match} while walking.
 */
export interface MatchState {
  readonly matched: boolean;
  readonly hits: readonly boolean[];
}

interface Compiled extends Pattern {
  test(path: string): boolean;
  /** Each path element's own test (undefined: it could match anything, even across a "/"). */
  readonly elements: readonly (RegExp | undefined)[];
}

/** Compiled patterns; immutable, so one can be shared. */
export class PatternMatcher {
  readonly patterns: readonly Pattern[];
  /** True when some pattern is a "!" exclusion. */
  readonly hasExclusions: boolean;
  readonly #compiled: readonly Compiled[];

  /** Compiles `patterns`, skipping blank ones; throws InvalidArgument on a malformed one. */
  constructor(patterns: readonly string[]) {
    this.#compiled = patterns.map(normalize).filter((p) => p !== undefined).map(compile);
    this.patterns = this.#compiled.map(({ text, exclusion }) => ({ text, exclusion }));
    this.hasExclusions = this.patterns.some((p) => p.exclusion);
  }

  /** Whether `path` or a parent matches, the last matching pattern deciding (MatchesOrParentMatches). */
  matches(path: string): boolean {
    let matched = false;
    for (const p of this.#compiled) {
      if (p.exclusion !== matched) continue; // cannot change the verdict
      if (p.test(path) || matchesParent(p, path)) matched = !p.exclusion;
    }
    return matched;
  }

  /** Like {@link matches}, reusing the parent directory's state when the caller has it. */
  match(path: string, parent?: MatchState): MatchState {
    const hits: boolean[] = [];
    let matched = false;
    for (const [i, p] of this.#compiled.entries()) {
      const hit = (parent ? parent.hits[i] === true : matchesParent(p, path)) || p.test(path);
      hits.push(hit);
      if (hit) matched = !p.exclusion;
    }
    return { matched, hits };
  }

  /**
   * Whether some path strictly inside directory `dir` (with its `state`) could get the opposite
   * verdict. When false its subtree need not be walked. Conservative: true when unsure.
   */
  mayFlipInside(dir: string, state: MatchState): boolean {
    const last = state.hits.lastIndexOf(true);
    const elements = dir.split("/");
    // Only a later pattern of the other polarity, one that misses `dir` itself, can flip a child.
    return this.#compiled.some((p, i) => i > last && p.exclusion === state.matched && mayMatchBelow(p, elements));
  }
}

function matchesParent(p: Compiled, path: string): boolean {
  for (let i = path.indexOf("/"); i > 0; i = path.indexOf("/", i + 1)) {
    if (p.test(path.slice(0, i))) return true;
  }
  return false;
}

/** Whether `p` could match a path strictly below the directory made of `dirElements`. */
function mayMatchBelow(p: Compiled, dirElements: readonly string[]): boolean {
  for (const [i, name] of dirElements.entries()) {
    const element = p.elements[i];
    if (i >= p.elements.length || element === undefined) return true;
    if (!element.test(name)) return false;
  }
  return true;
}

/** Trims, takes off "!", cleans and drops a leading "/"; undefined for a blank pattern. */
function normalize(raw: string): Pattern | undefined {
  let text = raw.trim();
  if (text === "") return undefined;
  const exclusion = text.startsWith("!");
  if (exclusion) text = text.slice(1).trim();
  if (text === "") throw invalidArgument('illegal exclusion pattern: "!"');
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
    if (element !== "..") out.push(element);
    else if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (!rooted) out.push("..");
  }
  const joined = out.join("/");
  if (rooted) return `/${joined}`;
  return joined === "" ? "." : joined;
}

function compile(pattern: Pattern): Compiled {
  const { text } = pattern;
  try {
    matchWildcard(text, "."); // filepath.Match's syntax checks, as moby does
  } catch (err) {
    if (err instanceof BadPatternError) throw syntaxError(text);
    throw err;
  }
  const elements = text.split("/").map((e) => (/\*\*|\[|\\$/.test(e) ? undefined : regExp(translate(e).source, text)));
  return { ...pattern, test: compileTest(text), elements };
}

/** moby's fast paths (exact, "x/**" prefix, "**\/x" suffix), its regexp otherwise. */
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
      const re = regExp(source, text);
      return (path) => re.test(path);
    }
  }
}

type Kind = "exact" | "prefix" | "suffix" | "regexp";

/** A port of moby's compile for a well-formed pattern: regexp source and the match kind detected. */
function translate(text: string): { source: string; kind: Kind } {
  const chars = Array.from(text);
  let source = "";
  let kind: Kind = "exact";
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === "*" && chars[i + 1] === "*") {
      const first = i === 0;
      i += chars[i + 2] === "/" ? 2 : 1;
      if (i + 1 < chars.length) [source, kind] = [`${source}(.*/)?`, "regexp"];
      else if (kind === "exact") kind = "prefix";
      else [source, kind] = [`${source}.*`, "regexp"];
      if (first) kind = "suffix";
    } else if (ch === "*") [source, kind] = [`${source}[^/]*`, "regexp"];
    else if (ch === "?") [source, kind] = [`${source}[^/]`, "regexp"];
    else if (ch === "[") {
      const cls = classSource(chars, i + 1);
      [source, kind, i] = [source + cls.source, "regexp", cls.end];
    } else if (ch === "\\") [source, kind] = [source + escape(chars[++i] as string, false), "regexp"];
    else source += escape(ch, false);
  }
  return { source, kind };
}

/** The regexp for a well-formed class whose body starts at `at`, and the index of its "]". */
function classSource(chars: readonly string[], at: number): { source: string; end: number } {
  let i = at;
  let source = "[";
  if (chars[i] === "^") [source, i] = ["[^", i + 1];
  const char = (): string => {
    if (chars[i] === "\\") i++;
    return chars[i++] as string;
  };
  do {
    const lo = char();
    let hi = lo;
    if (chars[i] === "-") {
      i++;
      hi = char();
    }
    // Go accepts "[z-a]" and never matches it; a RegExp would reject it.
    if ((lo.codePointAt(0) as number) <= (hi.codePointAt(0) as number)) {
      source += lo === hi ? escape(lo, true) : `${escape(lo, true)}-${escape(hi, true)}`;
    }
  } while (chars[i] !== "]");
  return { source: `${source}]`, end: i };
}

/** One literal character in a unicode RegExp, inside a class or not. */
function escape(ch: string, inClass: boolean): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) || (inClass && ch === "-") ? `\\${ch}` : ch;
}

function regExp(source: string, pattern: string): RegExp {
  try {
    return new RegExp(`^${source}$`, "su");
  } catch (err) {
    throw syntaxError(pattern, err);
  }
}

function syntaxError(pattern: string, cause?: unknown): Error {
  return invalidArgument(`invalid pattern ${JSON.stringify(pattern)}: syntax error in pattern`, cause);
}

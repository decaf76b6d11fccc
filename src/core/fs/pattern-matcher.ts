/**
 * .dockerignore-style pattern matching (moby/patternmatcher), used by copy's include/exclude
 * patterns and by the local source: patterns are cleaned paths relative to the walked root,
 * `*` and `?` stay within one component, `**` spans any number of them, a leading `!` negates
 * (re-includes what an earlier pattern matched), and the last matching pattern wins. A path
 * also matches when one of its parent directories does.
 */
import { posix } from "node:path";
import { BuildkitError } from "../errors.ts";
import { BadPatternError, matchWildcard } from "./wildcard.ts";

type MatchType = "exact" | "prefix" | "suffix" | "regexp";

const regexpSpecials = new Set([".", "+", "(", ")", "|", "{", "}", "$"]);

/** A character escaped for a unicode RegExp when it has a meaning there. */
function escapeChar(ch: string, inClass: boolean): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) || (inClass && ch === "-") ? `\\${ch}` : ch;
}

/** One compiled pattern. */
export class Pattern {
  readonly cleaned: string;
  readonly exclusion: boolean;
  #type: MatchType = "exact";
  #regexp: RegExp | undefined;

  constructor(cleaned: string, exclusion: boolean) {
    this.cleaned = cleaned;
    this.exclusion = exclusion;
    this.#compile();
  }

  /** Whether the slash-separated `path` matches this pattern (parents not considered). */
  match(path: string): boolean {
    switch (this.#type) {
      case "exact":
        return path === this.cleaned;
      case "prefix":
        return path.startsWith(this.cleaned.slice(0, -2));
      case "suffix": {
        const suffix = this.cleaned.slice(2);
        return path.endsWith(suffix) || (suffix.startsWith("/") && path === suffix.slice(1));
      }
      case "regexp":
        return (this.#regexp as RegExp).test(path);
    }
  }

  #compile(): void {
    const chars = Array.from(this.cleaned);
    let source = "^";
    let type: MatchType = "exact";
    let inClass = false;
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i] as string;
      if (ch === "*" && chars[i + 1] === "*") {
        const first = i === 0;
        i++;
        if (chars[i + 1] === "/") i++;
        if (i + 1 >= chars.length) {
          if (type === "exact") type = "prefix";
          else [source, type] = [`${source}.*`, "regexp"];
        } else [source, type] = [`${source}(.*/)?`, "regexp"];
        if (first) type = "suffix";
      } else if (ch === "*") [source, type] = [`${source}[^/]*`, "regexp"];
      else if (ch === "?") [source, type] = [`${source}[^/]`, "regexp"];
      else if (regexpSpecials.has(ch)) source += `\\${ch}`;
      else if (ch === "\\") {
        if (i + 1 < chars.length) [source, type] = [source + escapeChar(chars[++i] as string, inClass), "regexp"];
        else source += "\\\\";
      } else if (ch === "[" || ch === "]") {
        [source, type] = [source + (ch === "]" && !inClass ? "\\]" : ch), "regexp"];
        inClass = ch === "[";
      } else source += ch;
    }
    this.#type = type;
    if (type !== "regexp") return;
    try {
      this.#regexp = new RegExp(`${source}$`, "u");
    } catch {
      throw new BuildkitError("InvalidArgument", `invalid pattern ${JSON.stringify(this.cleaned)}: syntax error in pattern`);
    }
  }
}

/** Per-pattern results for a directory, handed down to its children while walking. */
export interface MatchInfo {
  readonly parentMatched: readonly boolean[];
}

export const NO_MATCH_INFO: MatchInfo = { parentMatched: [] };

/** Parent directories of a relative path, shortest first: "a/b/c" → ["a", "a/b"]. */
function parentPrefixes(file: string): string[] {
  const dir = posix.dirname(file);
  if (dir === ".") return [];
  const parts = dir.split("/");
  return parts.map((_, i) => parts.slice(0, i + 1).join("/"));
}

export class PatternMatcher {
  readonly patterns: readonly Pattern[];
  /** True when some pattern is a `!` exclusion. */
  readonly hasExclusions: boolean;

  /** Compiles the patterns; throws an InvalidArgument BuildkitError on a bad one. */
  constructor(patterns: readonly string[]) {
    const compiled: Pattern[] = [];
    for (const raw of patterns) {
      const trimmed = raw.trim();
      if (trimmed === "") continue;
      let p = posix.normalize(trimmed).replace(/(.)\/+$/, "$1");
      const exclusion = p.startsWith("!");
      if (exclusion) {
        if (p.length === 1) throw new BuildkitError("InvalidArgument", 'illegal exclusion pattern: "!"');
        p = p.slice(1);
      }
      checkSyntax(p);
      compiled.push(new Pattern(p, exclusion));
    }
    this.patterns = compiled;
    this.hasExclusions = compiled.some((p) => p.exclusion);
  }

  /** Whether `file` or one of its parents matches, after all negations (MatchesOrParentMatches). */
  matchesOrParentMatches(file: string): boolean {
    let matched = false;
    const parents = parentPrefixes(file);
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      const match = pattern.match(file) || parents.some((p) => pattern.match(p));
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }

  /**
   * The walking form of {@link matchesOrParentMatches} (MatchesUsingParentResults): pass the
   * parent directory's info (or {@link NO_MATCH_INFO} at the top), hand the returned info down.
   */
  matchesUsingParentResults(file: string, parent: MatchInfo): { matched: boolean; info: MatchInfo } {
    const known = parent.parentMatched;
    const results = new Array<boolean>(this.patterns.length).fill(false);
    let matched = false;
    this.patterns.forEach((pattern, i) => {
      let match = known[i] ?? false;
      if (!match) {
        if (pattern.exclusion !== matched) return;
        match = pattern.match(file);
        if (!match && known.length === 0) match = parentPrefixes(file).some((p) => pattern.match(p));
      }
      results[i] = match;
      if (match) matched = !pattern.exclusion;
    });
    return { matched, info: { parentMatched: results } };
  }
}

/** Rejects patterns Go's filepath.Match calls malformed. */
function checkSyntax(pattern: string): void {
  try {
    matchWildcard(pattern, ".");
  } catch (err) {
    if (err instanceof BadPatternError) {
      throw new BuildkitError("InvalidArgument", `invalid pattern ${JSON.stringify(pattern)}: syntax error in pattern`);
    }
    throw err;
  }
}

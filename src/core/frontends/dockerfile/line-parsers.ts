/**
 * How the arguments of each instruction are split into words, before any variable
 * expansion: as BuildKit's parser does it (JSON arrays, whitespace lists, name=value pairs).
 */
import { DockerfileSyntaxError } from "./errors.ts";

const WHITESPACE = /[\t\v\f\r ]+/;
const isSpace = (c: string) => /^\s$/u.test(c);

export interface ParsedArgs {
  args: string[];
  json: boolean;
}

/** Words split on whitespace, quotes and escapes kept as written (they are processed later). */
export function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  const chars = [...rest];
  let phase: "spaces" | "word" | "quote" = "spaces";
  let word = "";
  let quote = "";
  let blankOK = false;
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = chars[pos] ?? "";
    if (phase === "spaces") {
      if (pos === chars.length) break;
      if (isSpace(ch)) continue;
      phase = "word";
    }
    if (pos === chars.length) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === "word") {
      if (isSpace(ch)) {
        phase = "spaces";
        if (blankOK || word.length > 0) words.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = "quote";
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue;
        word += ch;
        ch = chars[++pos]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = "word";
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = "word";
        continue;
      }
      word += ch;
      ch = chars[++pos]!;
    }
    word += ch;
  }
  return words;
}

/** ENV and LABEL: `key value` (old form) or `k=v k2=v2`. */
export function parseNameVal(rest: string, key: string, escape: string): string[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) return [];
  if (!words[0]!.includes("=")) {
    const m = WHITESPACE.exec(rest);
    if (!m) throw new DockerfileSyntaxError(`${key} must have two arguments`);
    return [rest.slice(0, m.index), rest.slice(m.index + m[0].length)];
  }
  const out: string[] = [];
  for (const w of words) {
    const eq = w.indexOf("=");
    if (eq < 0) throw new DockerfileSyntaxError(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    out.push(w.slice(0, eq), w.slice(eq + 1));
  }
  return out;
}

export function parseWhitespaceList(rest: string): string[] {
  return rest === "" ? [] : rest.split(WHITESPACE);
}

/** A JSON array of strings, or undefined when rest is not one. */
export function parseJSONArray(rest: string): string[] | undefined {
  const trimmed = rest.trimStart();
  if (!trimmed.startsWith("[")) return undefined;
  let value: unknown;
  try {
    value = firstJSONValue(trimmed);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v) => typeof v === "string")) throw new DockerfileSyntaxError("when using JSON array syntax, arrays must be comprised of strings only");
  return value as string[];
}

/** Go's json.Decoder reads the first value and ignores what follows it. */
function firstJSONValue(s: string): unknown {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "[" || c === "{") depth++;
    else if (c === "]" || c === "}") {
      depth--;
      if (depth === 0) return JSON.parse(s.slice(0, i + 1));
    }
  }
  return JSON.parse(s);
}

export function parseMaybeJSON(rest: string): ParsedArgs {
  if (rest === "") return { args: [], json: false };
  const json = parseJSONArray(rest);
  return json ? { args: json, json: true } : { args: [rest], json: false };
}

export function parseMaybeJSONToList(rest: string): ParsedArgs {
  const json = parseJSONArray(rest);
  return json ? { args: json, json: true } : { args: parseWhitespaceList(rest), json: false };
}

/** HEALTHCHECK: the type word, then CMD's arguments (JSON or not). */
export function parseHealthConfig(rest: string): ParsedArgs {
  const m = /\s/.exec(rest);
  const sep = m ? m.index : rest.length;
  if (sep === 0) return { args: [], json: false };
  const cmd = parseMaybeJSON(rest.slice(sep).trimStart());
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}

/**
 * Splits `--flag=value` words off the front of an instruction's arguments (quotes and escapes
 * inside a flag are processed here); returns the flags and the rest.
 */
export function extractFlags(line: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let phase: "spaces" | "word" | "quote" = "spaces";
  let word = "";
  let quote = "";
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    let ch = line[pos] ?? "";
    if (phase === "spaces") {
      if (pos === line.length) break;
      if (isSpace(ch)) continue;
      if (ch !== "-" || pos + 1 === line.length || line[pos + 1] !== "-") return { flags, rest: line.slice(pos) };
      phase = "word";
    }
    if (pos === line.length) {
      if (word !== "--" && (blankOK || word.length > 0)) flags.push(word);
      break;
    }
    if (phase === "word") {
      if (isSpace(ch)) {
        phase = "spaces";
        if (word === "--") return { flags, rest: line.slice(pos) };
        if (blankOK || word.length > 0) flags.push(word);
        word = "";
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = "quote";
        continue;
      }
      if (ch === "\\") {
        if (pos + 1 === line.length) continue;
        ch = line[++pos]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      phase = "word";
      continue;
    }
    if (ch === "\\") {
      if (pos + 1 === line.length) {
        phase = "word";
        continue;
      }
      ch = line[++pos]!;
    }
    word += ch;
  }
  return { flags, rest: "" };
}

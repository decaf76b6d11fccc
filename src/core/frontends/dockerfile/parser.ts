/**
 * Dockerfile text → a list of instruction nodes: parser directives (`# escape=`), comments,
 * line continuations, heredocs, and each instruction's flags and argument words, with the
 * lines it spans (1-based). BuildKit's frontend/dockerfile/parser does the same job; this is
 * our own reading of its rules.
 */
import { atLines, DockerfileError } from "./errors.ts";
import { extractFlags, parseHealthConfig, parseMaybeJSON, parseMaybeJSONToList, parseNameVal, parseWhitespaceList, parseWords, type ParsedArgs } from "./line-parsers.ts";
import { processWord } from "./shell-lex.ts";
import type { SourceRange } from "../../error-sources.ts";

export interface Heredoc {
  name: string;
  expand: boolean;
  chomp: boolean;
  content: string;
}

export interface Node {
  /** The instruction as written (FROM, run, …). */
  cmd: string;
  flags: string[];
  args: string[];
  /** Arguments given as a JSON array (exec form). */
  json: boolean;
  /** The instruction's text, continuations joined. */
  original: string;
  heredocs: Heredoc[];
  startLine: number;
  endLine: number;
  /** Comment lines just above it. */
  comments: string[];
  /** ONBUILD's instruction. */
  sub?: Node;
}

/** A parser warning, with the fields of BuildKit's parser.Warning (Short, Detail, URL, Location). */
export interface ParserWarning {
  readonly short: string;
  readonly detail: readonly string[];
  readonly url: string;
  /** 1-based lines, character 0: the instruction's last line, as BuildKit's parser gives it. */
  readonly location: SourceRange;
}

export interface ParseResult {
  nodes: Node[];
  escape: "\\" | "`";
  warnings: ParserWarning[];
}

const HEREDOC_INSTRUCTIONS = new Set(["add", "copy", "run"]);
const HEREDOC = /^(\d*)<<(-?)([^<]*)$/;
const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;

/** Parses a heredoc marker word (`<<EOF`, `<<-"EOF"`); undefined when it is not one. */
export function parseHeredocMarker(word: string): Omit<Heredoc, "content"> | undefined {
  const m = HEREDOC.exec(word);
  if (!m || !m[3]) return undefined;
  const words = processWord(m[3], new Map(), { skipUnset: true }).words;
  if (words.length !== 1) return undefined;
  const raw = processWord(m[3], new Map(), { skipUnset: true, rawQuotes: true }).words;
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  return { name: words[0]!, chomp: m[2] === "-", expand: quotes(words[0]!) === quotes(raw[0] ?? "") };
}

export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, "");
}

function heredocsOf(line: string): Omit<Heredoc, "content">[] {
  let words: string[];
  try {
    words = processWord(line, new Map(), { rawQuotes: true, rawEscapes: true, skipUnset: true }).words;
  } catch {
    return [];
  }
  return words.flatMap((w) => parseHeredocMarker(w) ?? []);
}

function argsFor(cmd: string, rest: string, escape: string): ParsedArgs | "onbuild" {
  switch (cmd) {
    case "add":
    case "copy":
    case "volume":
      return parseMaybeJSONToList(rest);
    case "cmd":
    case "entrypoint":
    case "run":
    case "shell":
      return parseMaybeJSON(rest);
    case "arg":
      return { args: parseWords(rest, escape), json: false };
    case "env":
      return { args: parseNameVal(rest, "ENV", escape), json: false };
    case "label":
      return { args: parseNameVal(rest, "LABEL", escape), json: false };
    case "expose":
    case "from":
      return { args: parseWhitespaceList(rest), json: false };
    case "healthcheck":
      return parseHealthConfig(rest);
    case "maintainer":
    case "stopsignal":
    case "user":
    case "workdir":
      return { args: rest === "" ? [] : [rest], json: false };
    case "onbuild":
      return "onbuild";
    default:
      return { args: [], json: false };
  }
}

/** One logical line → a node (no line numbers yet). */
export function nodeFromLine(line: string, escape: string, comments: string[]): Node {
  const trimmed = line.trim();
  const m = /[\t\v\f\r ]+/.exec(trimmed);
  const cmd = m ? trimmed.slice(0, m.index) : trimmed;
  const { flags, rest } = m ? extractFlags(trimmed.slice(m.index + m[0].length)) : { flags: [], rest: "" };
  const args = argsFor(cmd.toLowerCase(), rest.trim(), escape);
  const node: Node = { cmd, flags, args: [], json: false, original: line, heredocs: [], startLine: 0, endLine: 0, comments };
  if (args === "onbuild") {
    if (rest.trim() !== "") node.sub = nodeFromLine(rest.trim(), escape, []);
  } else {
    node.args = args.args;
    node.json = args.json;
  }
  return node;
}

function canContainHeredoc(n: Node): boolean {
  const target = n.cmd.toLowerCase() === "onbuild" && n.sub ? n.sub : n;
  return HEREDOC_INSTRUCTIONS.has(target.cmd.toLowerCase()) && !target.json;
}

/** BuildKit v0.11's one parser warning, word for word. */
function emptyContinuationWarning(line: string, lastLine: number): ParserWarning {
  return {
    short: `Empty continuation line found in: ${line}`,
    detail: ["Empty continuation lines will become errors in a future release"],
    url: "https://github.com/moby/moby/pull/33719",
    location: { start: { line: lastLine, character: 0 }, end: { line: lastLine, character: 0 } },
  };
}

export function parseDockerfile(text: string): ParseResult {
  // Lines keep their "\n" (heredoc contents need them).
  const lines = text.replace(/^\uFEFF/, "").match(/[^\n]*\n|[^\n]+$/g) ?? [];
  let escape: "\\" | "`" = "\\";
  let continuation = /([^\\])\\[ \t]*$|^\\[ \t]*$/;
  let directivesDone = false;
  const seen = new Set<string>();
  const nodes: Node[] = [];
  const warnings: ParserWarning[] = [];
  let comments: string[] = [];
  let i = 0;
  const lineNo = () => i; // lines consumed so far = 1-based number of the last one read

  const directive = (raw: string): void => {
    if (directivesDone) return;
    const m = DIRECTIVE.exec(raw);
    const key = m?.[1]!.toLowerCase();
    if (!m || (key !== "escape" && key !== "syntax")) {
      directivesDone = true;
      return;
    }
    if (seen.has(key!)) throw new DockerfileError(`only one ${key} parser directive can be used`, lineNo());
    seen.add(key!);
    if (key === "escape") {
      const v = m[2]!;
      if (v !== "`" && v !== "\\") throw new DockerfileError(`invalid escape token '${v}' does not match \` or \\`, lineNo());
      escape = v;
      continuation = v === "`" ? /([^`])`[ \t]*$|^`[ \t]*$/ : /([^\\])\\[ \t]*$|^\\[ \t]*$/;
    }
  };
  const strip = (l: string) => l.replace(/\r?\n$/, "").replace(/\r$/, "");
  const isComment = (l: string) => /^#/.test(strip(l).trimStart());
  const trimCont = (l: string): [string, boolean] => (continuation.test(l) ? [l.replace(continuation, "$1"), false] : [l, true]);

  while (i < lines.length) {
    const raw = lines[i]!;
    if (isComment(raw)) {
      const c = raw.trim().slice(1).trim();
      comments = c === "" ? [] : [...comments, c];
    }
    let first = strip(raw).trimStart();
    i++;
    directive(first);
    first = first.replace(/^#.*$/, "");
    const startLine = i;
    let [line, done] = trimCont(first);
    if (done && line === "") continue;
    let emptyContinuation = false;
    while (!done && i < lines.length) {
      const next = lines[i]!;
      i++;
      directive(strip(next));
      if (isComment(next)) continue;
      if (strip(next).trim() === "") {
        emptyContinuation = true;
        continue;
      }
      let part: string;
      [part, done] = trimCont(strip(next).replace(/^#.*$/, ""));
      line += part;
    }
    if (emptyContinuation) warnings.push(emptyContinuationWarning(line, lineNo()));
    let node: Node;
    try {
      node = nodeFromLine(line, escape, comments);
    } catch (err) {
      throw atLines(err, startLine, lineNo());
    }
    if (canContainHeredoc(node)) {
      for (const h of heredocsOf(line)) {
        let content = "";
        let terminated = false;
        while (i < lines.length) {
          const l = lines[i]!;
          i++;
          let candidate = l.replace(/[\r\n]+$/, "");
          if (h.chomp) candidate = candidate.replace(/^\t+/, "");
          if (candidate === h.name) {
            terminated = true;
            break;
          }
          content += l;
        }
        if (!terminated) throw new DockerfileError("unterminated heredoc", startLine, lineNo());
        node.heredocs.push({ ...h, content });
      }
    }
    node.startLine = startLine;
    node.endLine = lineNo();
    nodes.push(node);
    comments = [];
  }
  if (nodes.length === 0) throw new DockerfileError("file with no instructions", Math.max(1, lineNo()));
  return { nodes, escape, warnings };
}

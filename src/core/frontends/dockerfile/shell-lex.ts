/**
 * Shell-word processing of Dockerfile arguments: quotes, the escape character and variable
 * substitution ($VAR, ${VAR}, ${VAR:-word}, ${VAR:+word}, ${VAR?msg}, ${VAR:?msg}), the rules
 * BuildKit's frontend/dockerfile/shell applies. No globbing, no command substitution.
 */
export interface LexOptions {
  escape?: "\\" | "`";
  /** Keep quote characters in the result. */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
  /** Quotes are plain characters. */
  skipQuotes?: boolean;
  /** Leave references to unset variables as written. */
  skipUnset?: boolean;
}

export type Env = ReadonlyMap<string, string>;

/** `KEY=value` strings to a map; a later entry wins, an entry without "=" is empty. */
export function envMap(env: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf("=");
    if (i < 0) m.set(e, "");
    else m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

export interface Processed {
  word: string;
  words: string[];
  /** Names of the variables that were found. */
  matches: Set<string>;
}

const EOF = "";
const isSpace = (c: string) => /^\s$/u.test(c);
const isDigit = (c: string) => /^\p{Nd}$/u.test(c);
const isLetter = (c: string) => /^\p{L}$/u.test(c);
const SPECIAL = new Set(["@", "*", "#", "?", "-", "$", "!", "0"]);

class Words {
  word = "";
  words: string[] = [];
  inWord = false;
  addChar(c: string): void {
    if (isSpace(c)) {
      if (this.inWord && this.word.length) {
        this.words.push(this.word);
        this.word = "";
        this.inWord = false;
      }
    } else this.addRaw(c);
  }
  addRaw(s: string): void {
    this.word += s;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const c of s) this.addChar(c);
  }
  get(): string[] {
    if (this.word.length) {
      this.words.push(this.word);
      this.word = "";
      this.inWord = false;
    }
    return this.words;
  }
}

class Scanner {
  readonly #chars: string[];
  #pos = 0;
  constructor(s: string) {
    this.#chars = [...s];
  }
  peek(): string {
    return this.#chars[this.#pos] ?? EOF;
  }
  next(): string {
    return this.#chars[this.#pos++] ?? EOF;
  }
}

class ShellWord {
  readonly #s: Scanner;
  readonly #env: Env;
  readonly #o: Required<LexOptions>;
  readonly matches = new Set<string>();

  constructor(source: string, env: Env, o: Required<LexOptions>) {
    this.#s = new Scanner(source);
    this.#env = env;
    this.#o = o;
  }

  process(stop: string): { word: string; words: string[] } {
    const s = this.#s;
    let result = "";
    const words = new Words();
    while (s.peek() !== EOF) {
      const c = s.peek();
      if (stop !== EOF && c === stop) {
        s.next();
        return { word: result, words: words.get() };
      }
      if (c === "$" || (!this.#o.skipQuotes && (c === "'" || c === '"'))) {
        const tmp = c === "$" ? this.#dollar() : c === "'" ? this.#single() : this.#double();
        result += tmp;
        if (c === "$") words.addString(tmp);
        else words.addRaw(tmp);
        continue;
      }
      let ch = s.next();
      if (ch === this.#o.escape) {
        if (this.#o.rawEscapes) {
          words.addRaw(ch);
          result += ch;
        }
        ch = s.next();
        if (ch === EOF) break;
        words.addRaw(ch);
      } else words.addChar(ch);
      result += ch;
    }
    if (stop !== EOF) throw new Error(`unexpected end of statement while looking for matching ${stop}`);
    return { word: result, words: words.get() };
  }

  #single(): string {
    const s = this.#s;
    let out = "";
    const q = s.next();
    if (this.#o.rawQuotes) out += q;
    for (;;) {
      const c = s.next();
      if (c === EOF) throw new Error("unexpected end of statement while looking for matching single-quote");
      if (c === "'") return this.#o.rawQuotes ? out + c : out;
      out += c;
    }
  }

  #double(): string {
    const s = this.#s;
    let out = "";
    const q = s.next();
    if (this.#o.rawQuotes) out += q;
    for (;;) {
      const p = s.peek();
      if (p === EOF) throw new Error("unexpected end of statement while looking for matching double-quote");
      if (p === '"') {
        const c = s.next();
        return this.#o.rawQuotes ? out + c : out;
      }
      if (p === "$") {
        out += this.#dollar();
        continue;
      }
      let c = s.next();
      if (c === this.#o.escape) {
        if (this.#o.rawEscapes) out += c;
        const n = s.peek();
        if (n === EOF) continue;
        if (n === '"' || n === "$" || n === this.#o.escape) c = s.next();
      }
      out += c;
    }
  }

  #dollar(): string {
    const s = this.#s;
    s.next();
    if (s.peek() !== "{") {
      const name = this.#name();
      if (name === "") return "$";
      const v = this.#get(name);
      if (v === undefined && this.#o.skipUnset) return `$${name}`;
      return v ?? "";
    }
    s.next();
    const p = s.peek();
    if (p === EOF) throw new Error("syntax error: missing '}'");
    if (p === "{" || p === "}" || p === ":") throw new Error("syntax error: bad substitution");
    const name = this.#name();
    const c = s.next();
    if (c === "}") {
      const v = this.#get(name);
      if (v === undefined && this.#o.skipUnset) return `\${${name}}`;
      return v ?? "";
    }
    if (c === "?") {
      const word = this.#until();
      const v = this.#get(name);
      if (v === undefined) {
        if (this.#o.skipUnset) return `\${${name}?${word}}`;
        throw new Error(`${name}: ${word || "is not allowed to be unset"}`);
      }
      return v;
    }
    if (c === ":") {
      const mod = s.next();
      const word = this.#until();
      const found = this.#get(name);
      const value = found ?? "";
      const raw = `\${${name}:${mod}${word}}`;
      switch (mod) {
        case "+":
          if (found === undefined && this.#o.skipUnset) return raw;
          return value !== "" ? word : value;
        case "-":
          if (found === undefined && this.#o.skipUnset) return raw;
          return value === "" ? word : value;
        case "?":
          if (found === undefined) {
            if (this.#o.skipUnset) return raw;
            throw new Error(`${name}: ${word || "is not allowed to be unset"}`);
          }
          if (value === "") throw new Error(`${name}: ${word || "is not allowed to be empty"}`);
          return value;
        default:
          throw new Error(`unsupported modifier (${mod}) in substitution`);
      }
    }
    throw new Error("missing ':' in substitution");
  }

  #until(): string {
    try {
      return this.process("}").word;
    } catch (err) {
      if (this.#s.peek() === EOF) throw new Error("syntax error: missing '}'");
      throw err;
    }
  }

  #name(): string {
    const s = this.#s;
    let name = "";
    while (s.peek() !== EOF) {
      const c = s.peek();
      if (name === "" && isDigit(c)) {
        while (s.peek() !== EOF && isDigit(s.peek())) name += s.next();
        return name;
      }
      if (name === "" && SPECIAL.has(c)) return s.next();
      if (!isLetter(c) && !isDigit(c) && c !== "_") break;
      name += s.next();
    }
    return name;
  }

  #get(name: string): string | undefined {
    const v = this.#env.get(name);
    if (v !== undefined) this.matches.add(name);
    return v;
  }
}

/** Processes a word (or a line of words) against env; throws `failed to process "…": cause`. */
export function processWord(source: string, env: Env, opts: LexOptions = {}): Processed {
  const o: Required<LexOptions> = { escape: "\\", rawQuotes: false, rawEscapes: false, skipQuotes: false, skipUnset: false, ...opts };
  const sw = new ShellWord(source, env, o);
  try {
    const { word, words } = sw.process(EOF);
    return { word, words, matches: sw.matches };
  } catch (err) {
    throw new Error(`failed to process "${source}": ${(err as Error).message}`);
  }
}

import { LLBError } from "./errors.ts";

/**
 * Splits a command line into words like a POSIX shell would, without expansion:
 * whitespace separates words, '…' is literal, "…" allows backslash escapes, a backslash
 * outside quotes escapes the next character, and # at the start of a word starts a comment.
 * (The rules of the shlex package BuildKit's client uses.)
 */
export function shlexSplit(input: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  const fail = (what: string) => {
    throw new LLBError(`parsing command "${input}": ${what}`);
  };
  while (i < input.length) {
    const ch = input[i]!;
    if (!inWord && /\s/.test(ch)) {
      i++;
      continue;
    }
    if (!inWord && ch === "#") {
      while (i < input.length && input[i] !== "\n") i++;
      continue;
    }
    if (/\s/.test(ch)) {
      words.push(word);
      word = "";
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (ch === "\\") {
      if (i + 1 >= input.length) fail("ends in an escape character");
      word += input[i + 1];
      i += 2;
    } else if (ch === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) fail("unterminated single quote");
      word += input.slice(i + 1, end);
      i = end + 1;
    } else if (ch === '"') {
      i++;
      for (;;) {
        if (i >= input.length) fail("unterminated double quote");
        const c = input[i]!;
        if (c === '"') break;
        if (c === "\\") {
          if (i + 1 >= input.length) fail("unterminated double quote");
          word += input[i + 1];
          i += 2;
        } else {
          word += c;
          i++;
        }
      }
      i++;
    } else {
      word += ch;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

import { describe, expect, test } from "bun:test";
import { parseDockerfile } from "../../../src/core/frontends/dockerfile/parser.ts";
import { parseStages } from "../../../src/core/frontends/dockerfile/instructions.ts";
import { DockerfileError, formatDockerfileError } from "../../../src/core/frontends/dockerfile/errors.ts";
import { processWord } from "../../../src/core/frontends/dockerfile/shell-lex.ts";
import { parseDockerignore } from "../../../src/core/frontends/dockerfile/daemonless.ts";

const stagesOf = (text: string) => parseStages(parseDockerfile(text).nodes);

function errorOf(text: string): string {
  try {
    stagesOf(text);
  } catch (err) {
    if (err instanceof DockerfileError) return formatDockerfileError(err);
    throw err;
  }
  throw new Error("no error");
}

describe("parser", () => {
  test("continuations, comments inside them, line numbers", () => {
    const { nodes } = parseDockerfile("FROM a\n\n# c\nRUN echo 1 \\\n  # inner\n  && echo 2\nCMD x\n");
    expect(nodes.map((n) => [n.cmd, n.startLine, n.endLine])).toEqual([["FROM", 1, 1], ["RUN", 4, 6], ["CMD", 7, 7]]);
    expect(nodes[1]!.args).toEqual(["echo 1   && echo 2"]);
  });

  test("escape directive", () => {
    const r = parseDockerfile("# escape=`\nFROM a\nRUN dir c:\\ `\n  x\n");
    expect(r.escape).toBe("`");
    expect(r.nodes[1]!.args).toEqual(["dir c:\\   x"]);
  });

  test("JSON and shell forms, flags", () => {
    const { nodes } = parseDockerfile(`FROM a\nCOPY --chown=1:2 --from=b x y /d/\nRUN ["echo", "hi"]\nENV A=1 B="2 3"\n`);
    expect(nodes[1]).toMatchObject({ flags: ["--chown=1:2", "--from=b"], args: ["x", "y", "/d/"], json: false });
    expect(nodes[2]).toMatchObject({ args: ["echo", "hi"], json: true });
    expect(nodes[3]!.args).toEqual(["A", "1", "B", '"2 3"']);
  });

  test("heredocs", () => {
    const { nodes } = parseDockerfile("FROM a\nRUN <<EOF\necho 1\nEOF\nCOPY <<-X /f\n\tline\n\tX\n");
    expect(nodes[1]!.heredocs).toEqual([{ name: "EOF", chomp: false, expand: true, content: "echo 1\n" }]);
    expect(nodes[2]!.heredocs[0]).toMatchObject({ name: "X", chomp: true, content: "\tline\n" });
  });
});

describe("line-numbered errors", () => {
  test.each([
    ["FROM a\nRUN x\nFOO bar\n", "Dockerfile:3: unknown instruction: FOO"],
    ["RUN x\n", "Dockerfile:1: no build stage in current context"],
    ["FROM a\nCOPY x\n", "Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined"],
    ["FROM a\nRUN --bogus=1 x\n", "Dockerfile:2: unknown flag: bogus"],
    ["FROM a\nRUN <<EOF\nnever ends\n", "Dockerfile:2-3: unterminated heredoc"],
    ["FROM a AS 1x\n", `Dockerfile:1: invalid name for build stage: "1x", name can't start with a number or contain symbols`],
    ["FROM a\nENV\n", "Dockerfile:2: ENV requires at least one argument"],
    ["# only a comment\n", "Dockerfile:1: file with no instructions"],
  ])("%j", (text, message) => {
    expect(errorOf(text)).toBe(message);
  });
});

describe("shell words", () => {
  const env = new Map([["A", "1"], ["E", ""]]);
  test.each([
    ["$A ${A} ${B:-d} ${A:+set} ${E:-empty}", "1 1 d set empty"],
    [`'$A' "$A" \\$A`, "$A 1 $A"],
    ["${B}x", "x"],
  ])("%s", (word, want) => expect(processWord(word, env).word).toBe(want));

  test("unset variables kept when asked; errors name the word", () => {
    expect(processWord("$B ${B:-x}", env, { skipUnset: true }).word).toBe("$B ${B:-x}");
    expect(() => processWord("${B:?must be set}", env)).toThrow('failed to process "${B:?must be set}": B: must be set');
  });
});

test(".dockerignore lines become exclude patterns", () => {
  expect(parseDockerignore("# comment\n\nnode_modules/\n/dist\n!dist/keep\n*.log\n")).toEqual(["node_modules", "dist", "!dist/keep", "*.log"]);
});

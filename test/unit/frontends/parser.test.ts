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
  // BuildKit's messages: instructions.Parse prefixes the instruction's errors with its line
  // ("dockerfile parse error on line N: "); the parser's own and the stage check do not.
  test.each([
    ["FROM a\nRUN x\nFOO bar\n", "Dockerfile:3: dockerfile parse error on line 3: unknown instruction: FOO (did you mean FROM?)"],
    ["FROM a\nRUN x\nBOGUS bar\n", "Dockerfile:3: dockerfile parse error on line 3: unknown instruction: BOGUS"],
    ["FROM a\nrun x\nfrob bar\n", "Dockerfile:3: dockerfile parse error on line 3: unknown instruction: frob (did you mean from?)"],
    ["RUN x\n", "Dockerfile:1: no build stage in current context"],
    ["FROM a\nCOPY x\n", "Dockerfile:2: dockerfile parse error on line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined"],
    ["FROM a\nRUN --bogus=1 x\n", "Dockerfile:2: dockerfile parse error on line 2: unknown flag: bogus"],
    ["FROM a\nRUN <<EOF\nnever ends\n", "Dockerfile:2-3: unterminated heredoc"],
    ["FROM a AS 1x\n", `Dockerfile:1: dockerfile parse error on line 1: invalid name for build stage: "1x", name can't start with a number or contain symbols`],
    ["FROM a\nENV\n", "Dockerfile:2: dockerfile parse error on line 2: ENV requires at least one argument"],
    ["FROM a\nRUN a \\\n  b \\\n  --x\nCMDD x\n", "Dockerfile:5: dockerfile parse error on line 5: unknown instruction: CMDD (did you mean CMD?)"],
    ["# only a comment\n", "Dockerfile:1: file with no instructions"],
  ])("%j", (text, message) => {
    expect(errorOf(text)).toBe(message);
  });

  test("an error's ranges are Go's: one per line, characters 0", () => {
    try {
      stagesOf("FROM a\nRUN --bogus \\\n  x\n");
      throw new Error("no error");
    } catch (err) {
      if (!(err instanceof DockerfileError)) throw err;
      expect(err.ranges).toEqual([2, 3].map((line) => ({ start: { line, character: 0 }, end: { line, character: 0 } })));
    }
  });
});

describe("parser warnings", () => {
  test("an empty continuation line: BuildKit's Short, Detail, URL and Location (the instruction's last line)", () => {
    const { warnings } = parseDockerfile("FROM scratch\nRUN echo one \\\n\n  && echo two\nENV A=1\n");
    expect(warnings).toEqual([
      {
        short: "Empty continuation line found in: RUN echo one   && echo two",
        detail: ["Empty continuation lines will become errors in a future release"],
        url: "https://github.com/moby/moby/pull/33719",
        location: { start: { line: 4, character: 0 }, end: { line: 4, character: 0 } },
      },
    ]);
  });

  test("a comment inside a continuation is no empty line; a Dockerfile without one has no warnings", () => {
    expect(parseDockerfile("FROM scratch\nRUN a \\\n# c\n  b\n").warnings).toEqual([]);
    expect(parseDockerfile("FROM scratch\nRUN a \\\n  b\n").warnings).toEqual([]);
  });
});

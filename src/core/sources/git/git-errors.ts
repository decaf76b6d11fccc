/** git's failures as BuildkitErrors: one line, with a code that says what kind of failure. */
import { BuildkitError, type ErrorCode } from "../../errors.ts";
import { GitCommandError } from "./git-command.ts";

/** Lines git prints that only pad its message. */
const NOISE = [/^please make sure you have the correct access rights$/i, /^and the repository exists\.?$/i, /^hint:/i];
const PROGRESS = /^(remote: )?(enumerating|counting|compressing|receiving|resolving|total|unpacking) /i;

/** git's stderr as one line: `fatal: `/`error: ` prefixes dropped, lines joined. */
export function condenseGitMessage(stderr: string): string {
  const lines = stderr
    .split(/\r\n|\r|\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !PROGRESS.test(l) && !NOISE.some((re) => re.test(l)))
    .map((l) => l.replace(/^(fatal|error): /i, "").replace(/\.$/, ""));
  let out = "";
  for (const line of [...new Set(lines)]) out += out === "" ? line : out.endsWith(":") ? ` ${line}` : `; ${line}`;
  return out;
}

const NOT_FOUND = /does not appear to be a git repository|repository not found|not exported|couldn't find remote ref|not our ref|no such ref/i;

/** The code for a failed command talking to a remote. */
export function remoteErrorCode(err: GitCommandError): ErrorCode {
  return NOT_FOUND.test(err.stderr) ? "NotFound" : "Unavailable";
}

/**
 * A failure while doing `context` as a BuildkitError: git's own message condensed, coded by
 * `code` (default: Internal for local commands). Cancellation and our own errors pass through.
 */
export function gitError(context: string, err: unknown, code?: (e: GitCommandError) => ErrorCode): unknown {
  if (err instanceof BuildkitError) return err;
  if (err instanceof GitCommandError) {
    return new BuildkitError(code?.(err) ?? "Internal", `${context}: ${condenseGitMessage(err.stderr) || err.message}`, { cause: err });
  }
  return err;
}

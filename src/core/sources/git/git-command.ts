/**
 * The one way this source runs git: through simple-git, in a given directory, with an
 * environment that keeps the user's auth settings (askpass, ssh command, credential helpers
 * via HOME) but never prompts on a terminal and never inherits GIT_DIR & co. Any non-zero exit
 * is a GitCommandError carrying git's stderr.
 */
import { simpleGit } from "simple-git";

export interface GitCommandOptions {
  /** Where git runs (a repository, or any directory for commands that need none). */
  readonly cwd: string;
  readonly signal?: AbortSignal;
  /** Extra `-c key=value` settings for this command. */
  readonly config?: readonly string[];
  /** Extra environment variables (names must be in PASSED_ENV). */
  readonly env?: Readonly<Record<string, string>>;
  /** Each chunk git writes to stderr (progress, warnings), as it comes. */
  readonly onStderr?: (chunk: Uint8Array) => void;
}

export class GitCommandError extends Error {
  readonly args: readonly string[];
  readonly exitCode: number;
  readonly stderr: string;

  constructor(args: readonly string[], exitCode: number, stderr: string) {
    super(stderr.trim() || `git ${args[0] ?? ""} exited with code ${exitCode}`);
    this.name = "GitCommandError";
    this.args = args;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** Variables git reads for auth and diagnostics, passed through from our environment. */
const PASSED_ENV = [
  "GIT_ASKPASS", "SSH_ASKPASS", "SSH_ASKPASS_REQUIRE", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT",
  "GIT_TERMINAL_PROMPT", "GIT_TRACE", "GIT_TRACE_PACKET", "GIT_TRACE_CURL", "GIT_CURL_VERBOSE",
  "GIT_HTTP_LOW_SPEED_LIMIT", "GIT_HTTP_LOW_SPEED_TIME", "GIT_SSL_NO_VERIFY", "GIT_SSL_CAINFO",
];
/** Non-GIT_ names simple-git guards; dropped unless in PASSED_ENV. */
const GUARDED = new Set(["editor", "pager", "prefix", "visual"]);
const PASSED = new Set(PASSED_ENV.map((k) => k.toLowerCase()));

function childEnv(extra: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    const lower = k.toLowerCase();
    if (v === undefined || ((lower.startsWith("git_") || GUARDED.has(lower)) && !PASSED.has(lower))) continue;
    env[k] = v;
  }
  // A build never has anyone to answer a prompt; git's messages are parsed, so keep them in English.
  return { ...env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", ...extra };
}

/**
 * git's advice is for someone at a terminal, not for a build's log: the default-branch hint of
 * `git init` (silenced by naming git's own default) and the detached-HEAD note of a checkout.
 */
const QUIET_CONFIG = ["init.defaultBranch=master", "advice.detachedHead=false"];

/** Forwards a chunk of git's stderr without its `hint:` lines (any advice the settings miss). */
function forwardStderr(chunk: Uint8Array, onStderr: (chunk: Uint8Array) => void): void {
  const text = Buffer.from(chunk).toString("utf8");
  if (!/^hint:/im.test(text)) return onStderr(chunk);
  const kept = text.split(/(?<=\n)/).filter((line) => !/^hint:/i.test(line)).join("");
  if (kept !== "") onStderr(new TextEncoder().encode(kept));
}

/** Runs `git ARGS` and returns its stdout. */
export async function runGit(args: readonly string[], opts: GitCommandOptions): Promise<string> {
  // simple-git wraps whatever `errors` returns in its own GitError: keep ours aside.
  let failure: GitCommandError | undefined;
  const git = simpleGit({
    baseDir: opts.cwd,
    trimmed: false,
    config: [...QUIET_CONFIG, ...(opts.config ?? [])],
    allowEnvironment: [...PASSED_ENV, ...Object.keys(opts.env ?? {})],
    unsafe: { allowUnsafeAskPass: true, allowUnsafeSshCommand: true, allowUnsafeProtocolOverride: true },
    ...(opts.signal ? { abort: opts.signal } : {}),
    errors: (error, result) => {
      if (result.exitCode === 0) return error;
      failure = new GitCommandError(args, result.exitCode, Buffer.concat(result.stdErr).toString("utf8"));
      return failure;
    },
  }).env(childEnv(opts.env));
  const onStderr = opts.onStderr;
  if (onStderr) git.outputHandler((_cmd, _out, stderr) => stderr.on("data", (chunk: Buffer) => forwardStderr(chunk, onStderr)));
  try {
    return await git.raw([...args]);
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? err;
    throw failure ?? err;
  }
}

/** Like runGit, but a failure (non-zero exit) is `undefined`: for queries such as `cat-file -e`. */
export async function tryGit(args: readonly string[], opts: GitCommandOptions): Promise<string | undefined> {
  try {
    return await runGit(args, opts);
  } catch (err) {
    if (err instanceof GitCommandError) return undefined;
    throw err;
  }
}

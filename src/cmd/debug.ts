// `buildkit debug`: tools for looking inside builds without a daemon. The work is in core;
// these commands only read input, call it and print.
import { defineCommand } from "./command.ts";
import { BuildkitError, withContext } from "../core/errors.ts";
import { loadDefinition } from "../core/llb/definition.ts";
import { dumpDot, dumpJSON } from "../core/llb/dump.ts";
import { analyzeTrace, formatTraceTable, toChromeTrace } from "../core/progress/analysis.ts";
import type { ProgressWriter } from "../core/progress/events.ts";
import { readTraceRecords } from "../core/progress/trace.ts";
import type { TimedProgressEvent, TraceRecord } from "../core/progress/trace.ts";
import type { ReplayClock } from "../ui/tty/replay.ts";
import { repeatedFlag } from "./build-flags.ts";
import { DAEMON_ARGS, remoteAddress } from "./daemon-flags.ts";
import { fail, UsageError } from "./exit.ts";
import { stdoutStream } from "./stdout.ts";

/** The definition's bytes from a file, or from stdin when no path (or "-") is given. */
async function readDefinition(path: string | undefined): Promise<Uint8Array> {
  if (path === undefined || path === "-") return new Uint8Array(await Bun.stdin.arrayBuffer());
  try {
    return await Bun.file(path).bytes();
  } catch (err) {
    throw withContext(`reading ${path}`, err);
  }
}

function pickPath(flag: string | undefined, positional: string | undefined): string | undefined {
  if (flag !== undefined && positional !== undefined) throw new UsageError("give the definition either as LLBFILE or with --file, not both");
  return flag ?? positional;
}

const dumpLLB = defineCommand({
  meta: {
    name: "dump-llb",
    description: "Print an LLB definition as JSON, one line per op (or as a Graphviz graph); no daemon needed",
  },
  args: {
    llbfile: { type: "positional", required: false, description: "File holding the definition (default: stdin)" },
    file: { type: "string", alias: "f", valueHint: "PATH", description: "Read the definition from PATH ('-' for stdin)" },
    dot: { type: "boolean", description: "Print a Graphviz digraph instead of JSON" },
  },
  async run({ args }) {
    try {
      const positional = typeof args.llbfile === "string" && args.llbfile !== "" ? args.llbfile : undefined;
      const def = loadDefinition(await readDefinition(pickPath(args.file, positional)));
      stdoutStream().write(args.dot ? dumpDot(def) : dumpJSON(def).map((line) => `${line}\n`).join(""));
    } catch (err) {
      // One line on stderr and a non-zero exit, also when run outside main.ts.
      fail(err);
    }
  },
});

async function readRecords(path: string): Promise<TraceRecord[]> {
  if (!(await Bun.file(path).exists())) throw new BuildkitError("NotFound", `reading trace ${path}: no such file`);
  const records: TraceRecord[] = [];
  for await (const r of readTraceRecords(path)) records.push(r);
  return records;
}

const isEvent = (r: TraceRecord): r is TimedProgressEvent => r.type !== "trace" && r.type !== "end";

async function writeOut(text: string, output: string | undefined): Promise<void> {
  if (output === undefined || output === "-") {
    stdoutStream().write(text);
    return;
  }
  try {
    await Bun.write(output, text);
  } catch (err) {
    throw withContext(`writing ${output}`, err);
  }
}

function parseSpeed(text: string | undefined): number {
  const speed = Number(text ?? "1");
  if (!Number.isFinite(speed) || speed <= 0) throw new UsageError(`--speed must be a positive number, not "${text}"`);
  return speed;
}

/** The tty display on a terminal, else plain lines; both on stdout and on the replay's clock. */
async function replayDisplay(clock: ReplayClock): Promise<ProgressWriter> {
  // Loaded here: the table and chrome formats need none of the display code (nor listr2).
  const { createTTYDisplay, shouldUseTTY } = await import("../ui/tty.ts");
  const { createPlainPrinter } = await import("../ui/plain.ts");
  if (shouldUseTTY("auto", stdoutStream(), process.env)) return createTTYDisplay(stdoutStream(), { now: () => clock.now() });
  return createPlainPrinter({ write: (s) => void stdoutStream().write(s) }, { now: () => clock.now(), startTime: clock.now() });
}

const FORMATS = ["table", "chrome"] as const;

const trace = defineCommand({
  meta: {
    name: "trace",
    description: "Where a build's time went, from its trace file: per-step timings with the critical path, or a Chrome trace (Perfetto, chrome://tracing)",
  },
  args: {
    file: { type: "positional", required: true, description: "A trace file (the build prints its path; see <root>/traces)" },
    format: { type: "string", default: "table", valueHint: "table|chrome", description: "table: timings and a summary; chrome: Chrome trace event JSON" },
    output: { type: "string", alias: "o", valueHint: "PATH", description: "Write to PATH instead of stdout" },
    replay: { type: "boolean", description: "Play the build's progress again, as it was recorded (tty tree on a terminal)" },
    speed: { type: "string", valueHint: "N", description: "With --replay: play N times faster (default 1)" },
  },
  async run({ args }) {
    try {
      const format = args.format as (typeof FORMATS)[number];
      if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, not "${args.format}"`);
      const speed = parseSpeed(args.speed);
      const records = await readRecords(args.file);
      if (args.replay) {
        const { replayClock, replayTrace } = await import("../ui/tty/replay.ts");
        const clock = replayClock(records, { speed });
        await replayTrace(records, await replayDisplay(clock), { clock, speed });
        return;
      }
      const events = records.filter(isEvent);
      const text = format === "chrome" ? `${JSON.stringify(toChromeTrace(events))}\n` : formatTraceTable(analyzeTrace(events)).map((l) => `${l}\n`).join("");
      await writeOut(text, args.output);
    } catch (err) {
      fail(err);
    }
  },
});

const workers = defineCommand({
  meta: { name: "workers", description: "List a daemon's workers (--addr or BUILDKIT_HOST)" },
  args: {
    filter: { type: "string", alias: "f", description: "Containerd-style filters on the workers' labels (repeatable)" },
    verbose: { type: "boolean", alias: "v", description: "Print labels and versions too" },
    ...DAEMON_ARGS,
  },
  async run({ args, rawArgs }) {
    const address = await remoteAddress(args);
    if (address === undefined) throw new UsageError("debug workers needs a daemon: pass --addr unix:///PATH or tcp://HOST:PORT (or set BUILDKIT_HOST)");
    const { formatWorkers, listWorkers } = await import("../api/client/workers.ts");
    const { onDaemon } = await import("./du.ts");
    const list = await onDaemon(address, args, (channel) => listWorkers(channel, repeatedFlag(rawArgs, "filter", "f")));
    stdoutStream().write(formatWorkers(list, args.verbose === true));
  },
});

export default defineCommand({
  meta: { name: "debug", description: "Debugging tools: definitions and traces (no daemon needed), a daemon's workers" },
  subCommands: { "dump-llb": dumpLLB, trace, workers },
});

/** Parser nodes → typed instructions grouped into stages (BuildKit's instructions.Parse). */
import { DockerfileError } from "./errors.ts";
import { Flags, parseGoDuration } from "./flags.ts";
import { chompHeredoc, parseHeredocMarker, type Heredoc, type Node } from "./parser.ts";
import { mountSources } from "./run-mounts.ts";
import { withSuggestion } from "./suggest.ts";

/** Every instruction's name (BuildKit's command.Commands). */
const INSTRUCTIONS = ["ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"];

export interface KV {
  key: string;
  value: string;
}
export interface ArgKV {
  key: string;
  value?: string;
}
export interface SourceContent {
  path: string;
  data: string;
  expand: boolean;
}
export interface CopyParams {
  dest: string;
  sources: string[];
  contents: SourceContent[];
}
export interface Health {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}
interface Base {
  /** The instruction's text, trimmed (BuildKit's String()). */
  code: string;
  startLine: number;
  endLine: number;
}
export interface ShellCmd {
  cmdLine: string[];
  prependShell: boolean;
  files: { name: string; data: string; chomp: boolean }[];
}

export type Command =
  | (Base & { kind: "env"; env: KV[] })
  | (Base & { kind: "label"; labels: KV[] })
  | (Base & { kind: "maintainer"; maintainer: string })
  | (Base & { kind: "add"; params: CopyParams; chown: string; chmod: string; link: boolean; keepGitDir: boolean; checksum: string })
  | (Base & { kind: "copy"; params: CopyParams; from: string; chown: string; chmod: string; link: boolean })
  | (Base & { kind: "onbuild"; expression: string })
  | (Base & { kind: "workdir"; path: string })
  | (Base & ShellCmd & { kind: "run"; mounts: string[]; mountFrom: string[]; network: string; security: string })
  | (Base & ShellCmd & { kind: "cmd" })
  | (Base & ShellCmd & { kind: "entrypoint" })
  | (Base & { kind: "healthcheck"; health: Health })
  | (Base & { kind: "expose"; ports: string[] })
  | (Base & { kind: "user"; user: string })
  | (Base & { kind: "volume"; volumes: string[] })
  | (Base & { kind: "stopsignal"; signal: string })
  | (Base & { kind: "arg"; args: ArgKV[] })
  | (Base & { kind: "shell"; shell: string[] });

export interface Stage {
  name: string;
  baseName: string;
  platform: string;
  sourceCode: string;
  commands: Command[];
  startLine: number;
  endLine: number;
}

export interface ParsedStages {
  stages: Stage[];
  metaArgs: Extract<Command, { kind: "arg" }>[];
}

export interface InstructionOptions {
  /** Accept `RUN --security=` (BuildKit builds it only with the dfrunsecurity tag). */
  runSecurity?: boolean;
}

function kvps(args: string[], cmd: string): KV[] {
  if (args.length === 0) throw new Error(`${cmd} requires at least one argument`);
  if (args.length % 2 !== 0) throw new Error(`Bad input to ${cmd}, too many arguments`);
  const out: KV[] = [];
  for (let i = 0; i < args.length; i += 2) {
    if (!args[i]) throw new Error(`${cmd} names can not be blank`);
    out.push({ key: args[i]!, value: args[i + 1]! });
  }
  return out;
}

function sourcesAndDest(n: Node, cmd: string): CopyParams {
  const dest = n.args[n.args.length - 1]!;
  if (parseHeredocMarker(dest)) throw new Error(`${cmd} cannot accept a heredoc as a destination`);
  const docs = new Map<string, Heredoc>(n.heredocs.map((h) => [h.name, h]));
  const params: CopyParams = { dest, sources: [], contents: [] };
  for (const src of n.args.slice(0, -1)) {
    const h = parseHeredocMarker(src);
    if (!h) {
      params.sources.push(src);
      continue;
    }
    const content = docs.get(h.name)?.content ?? "";
    params.contents.push({ path: h.name, data: h.chomp ? chompHeredoc(content) : content, expand: h.expand });
  }
  return params;
}

function shellCmd(n: Node, emptyAsNil: boolean): ShellCmd {
  const cmdLine = n.args.length === 0 ? [] : n.json ? n.args : [n.args.join(" ")];
  void emptyAsNil;
  return { cmdLine, prependShell: !n.json, files: n.heredocs.map((h) => ({ name: h.name, data: h.content, chomp: h.chomp })) };
}

function interval(f: Flags, name: string): number | undefined {
  const v = f.string(name);
  if (v === "") return undefined;
  const d = parseGoDuration(v);
  if (d === 0) return undefined;
  if (d < 1e6) throw new Error(`Interval "${name}" cannot be less than 1ms`);
  return d;
}

function one(n: Node, cmd: string): string {
  if (n.args.length !== 1) throw new Error(`${cmd} requires exactly one argument`);
  return n.args[0]!;
}

/** One node → a command, or a stage for FROM. Throws plain errors; the caller adds lines. */
export function parseInstruction(n: Node, opts: InstructionOptions = {}): Command | Stage {
  const base: Base = { code: n.original.trim(), startLine: n.startLine, endLine: n.endLine };
  const flags = new Flags(n.flags);
  const cmd = n.cmd.toLowerCase();
  switch (cmd) {
    case "env":
      flags.parse();
      return { ...base, kind: "env", env: kvps(n.args, "ENV") };
    case "label":
      flags.parse();
      return { ...base, kind: "label", labels: kvps(n.args, "LABEL") };
    case "maintainer":
      return { ...base, kind: "maintainer", maintainer: one(n, "MAINTAINER") };
    case "add":
    case "copy": {
      const upper = cmd.toUpperCase();
      if (n.args.length < 2) throw new Error(`${upper} requires at least two arguments, but only one was provided. Destination could not be determined`);
      flags.declare("chown", "string").declare("chmod", "string").declare("link", "bool");
      if (cmd === "add") flags.declare("keep-git-dir", "bool").declare("checksum", "string");
      else flags.declare("from", "string");
      flags.parse();
      const common = { params: sourcesAndDest(n, upper), chown: flags.string("chown"), chmod: flags.string("chmod"), link: flags.bool("link") };
      if (cmd === "add") return { ...base, kind: "add", ...common, keepGitDir: flags.bool("keep-git-dir"), checksum: flags.string("checksum") };
      return { ...base, kind: "copy", ...common, from: flags.string("from") };
    }
    case "from": {
      let name = "";
      if (n.args.length === 3 && n.args[1]!.toLowerCase() === "as") {
        name = n.args[2]!.toLowerCase();
        if (!/^[a-z][a-z0-9-_.]*$/.test(name)) throw new Error(`invalid name for build stage: "${n.args[2]}", name can't start with a number or contain symbols`);
      } else if (n.args.length !== 1) throw new Error("FROM requires either one or three arguments");
      flags.declare("platform", "string").parse();
      return { name, baseName: n.args[0]!, platform: flags.string("platform"), sourceCode: base.code, commands: [], startLine: n.startLine, endLine: n.endLine };
    }
    case "onbuild": {
      if (!n.sub) throw new Error("ONBUILD requires at least one argument");
      flags.parse();
      const trigger = n.sub.cmd.toUpperCase();
      if (trigger === "ONBUILD") throw new Error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (trigger === "MAINTAINER" || trigger === "FROM") throw new Error(`${trigger} isn't allowed as an ONBUILD trigger`);
      let expression = n.original.replace(/^\s*ONBUILD\s*/i, "");
      for (const h of n.heredocs) expression += `\n${h.content}${h.name}`;
      return { ...base, kind: "onbuild", expression };
    }
    case "workdir": {
      const path = one(n, "WORKDIR");
      flags.parse();
      return { ...base, kind: "workdir", path };
    }
    case "run": {
      flags.declare("mount", "strings").declare("network", "string", "default");
      if (opts.runSecurity) flags.declare("security", "string", "sandbox");
      flags.parse();
      const network = flags.string("network");
      if (!["default", "none", "host"].includes(network)) throw new Error(`invalid network mode "${network}"`);
      const security = opts.runSecurity ? flags.string("security") : "sandbox";
      if (!["sandbox", "insecure"].includes(security)) throw new Error(`invalid security mode "${security}"`);
      const mounts = flags.strings("mount");
      return { ...base, kind: "run", ...shellCmd(n, false), mounts, mountFrom: mountSources(mounts), network, security };
    }
    case "cmd":
      flags.parse();
      return { ...base, kind: "cmd", ...shellCmd(n, false) };
    case "entrypoint":
      flags.parse();
      return { ...base, kind: "entrypoint", ...shellCmd(n, true) };
    case "healthcheck":
      return { ...base, kind: "healthcheck", health: parseHealthcheck(n, flags) };
    case "expose":
      if (n.args.length === 0) throw new Error("EXPOSE requires at least one argument");
      flags.parse();
      return { ...base, kind: "expose", ports: [...n.args].sort() };
    case "user": {
      const user = one(n, "USER");
      flags.parse();
      return { ...base, kind: "user", user };
    }
    case "volume": {
      if (n.args.length === 0) throw new Error("VOLUME requires at least one argument");
      flags.parse();
      const volumes = n.args.map((v) => v.trim());
      if (volumes.some((v) => v === "")) throw new Error("VOLUME specified can not be an empty string");
      return { ...base, kind: "volume", volumes };
    }
    case "stopsignal":
      return { ...base, kind: "stopsignal", signal: one(n, "STOPSIGNAL") };
    case "arg": {
      if (n.args.length === 0) throw new Error("ARG requires at least one argument");
      const args = n.args.map((a): ArgKV => {
        const eq = a.indexOf("=");
        if (eq < 0) return { key: a };
        if (eq === 0) throw new Error("ARG names can not be blank");
        return { key: a.slice(0, eq), value: a.slice(eq + 1) };
      });
      return { ...base, kind: "arg", args };
    }
    case "shell": {
      flags.parse();
      if (n.args.length === 0) throw new Error("SHELL requires at least one argument");
      if (!n.json) throw new Error(`SHELL requires the arguments to be in JSON form`);
      return { ...base, kind: "shell", shell: n.args };
    }
    default:
      throw new Error(withSuggestion(`unknown instruction: ${n.cmd}`, n.cmd, INSTRUCTIONS));
  }
}

function parseHealthcheck(n: Node, flags: Flags): Health {
  if (n.args.length === 0) throw new Error("HEALTHCHECK requires at least one argument");
  const typ = n.args[0]!.toUpperCase();
  const args = n.args.slice(1);
  if (typ === "NONE") {
    if (args.length) throw new Error("HEALTHCHECK NONE takes no arguments");
    return { Test: ["NONE"] };
  }
  flags.declare("interval", "string").declare("timeout", "string").declare("start-period", "string").declare("retries", "string").parse();
  if (typ !== "CMD") throw new Error(`Unknown type "${typ}" in HEALTHCHECK (try CMD)`);
  const cmd = n.json ? args : args.length ? [args.join(" ")] : [];
  if (cmd.length === 0) throw new Error("Missing command after HEALTHCHECK CMD");
  const h: Health = { Test: [n.json ? "CMD" : "CMD-SHELL", ...cmd] };
  h.Interval = interval(flags, "interval");
  h.Timeout = interval(flags, "timeout");
  h.StartPeriod = interval(flags, "start-period");
  const r = flags.string("retries");
  if (r !== "") {
    if (!/^-?\d+$/.test(r)) throw new Error(`strconv.ParseInt: parsing "${r}": invalid syntax`);
    if (Number(r) < 0) throw new Error(`--retries cannot be negative (${r})`);
    h.Retries = Number(r);
  }
  return h;
}

/** All nodes → stages plus the ARGs before the first FROM; errors carry their lines. */
export function parseStages(nodes: readonly Node[], opts: InstructionOptions = {}): ParsedStages {
  const stages: Stage[] = [];
  const metaArgs: ParsedStages["metaArgs"] = [];
  for (const n of nodes) {
    let c: Command | Stage;
    try {
      c = parseInstruction(n, opts);
    } catch (err) {
      // instructions.Parse's parseError: the message names the instruction's first line.
      if (err instanceof DockerfileError) throw err;
      throw new DockerfileError(`dockerfile parse error on line ${n.startLine}: ${err instanceof Error ? err.message : String(err)}`, n.startLine, n.endLine);
    }
    if ("baseName" in c) {
      stages.push(c);
      continue;
    }
    const current = stages[stages.length - 1];
    if (!current) {
      if (c.kind === "arg") {
        metaArgs.push(c);
        continue;
      }
      throw new DockerfileError("no build stage in current context", n.startLine, n.endLine);
    }
    current.commands.push(c);
  }
  return { stages, metaArgs };
}

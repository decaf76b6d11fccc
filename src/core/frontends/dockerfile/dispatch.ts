/** One instruction applied to a stage: expansion, then its effect on the state and image config. */
import { posix } from "node:path";
import { mkdir } from "../../llb/index.ts";
import { addHistory, setEnv } from "./image-config.ts";
import { goHealth, goQuoteList } from "./go-format.ts";
import type { Command } from "./instructions.ts";
import { processWord, envMap } from "./shell-lex.ts";
import { dispatchCopy } from "./dispatch-copy.ts";
import { dispatchRun, withShell } from "./dispatch-run.ts";
import { expandWord, nameWithEnv, type DispatchContext } from "./dispatch-context.ts";
import { prefixCommand, type DispatchState } from "./dispatch-state.ts";
import { lineRanges, locationOption } from "./source-location.ts";

const NON_ENV_ARGS = new Set(["BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"]);

/** Substitutes variables in the words BuildKit expands for each instruction (in place). */
function expand(c: Command, ctx: DispatchContext, env: readonly string[]): void {
  const x = (w: string) => expandWord(ctx, env, w);
  switch (c.kind) {
    case "env":
      c.env = c.env.map((kv) => ({ key: x(kv.key), value: x(kv.value) }));
      break;
    case "label":
      c.labels = c.labels.map((kv) => ({ key: x(kv.key), value: x(kv.value) }));
      break;
    case "add":
    case "copy":
      c.chown = x(c.chown);
      c.params.sources = c.params.sources.map(x);
      c.params.dest = x(c.params.dest);
      for (const content of c.params.contents) {
        if (content.expand) content.data = processWord(content.data, envMap(env), { skipQuotes: true }).word;
      }
      break;
    case "workdir":
      c.path = x(c.path);
      break;
    case "user":
      c.user = x(c.user);
      break;
    case "volume":
      c.volumes = c.volumes.map(x);
      break;
    case "stopsignal":
      c.signal = x(c.signal);
      break;
    case "arg":
      c.args = c.args.map((a) => ({ key: x(a.key), value: a.value === undefined ? undefined : x(a.value) }));
      break;
    default:
      break;
  }
}

export function dispatchWorkdir(d: DispatchState, path: string, commit: boolean, ctx?: DispatchContext, c?: Extract<Command, { kind: "workdir" }>): void {
  d.state = d.state.dir(path);
  const wd = posix.isAbsolute(path) ? path : posix.join("/", d.image.config.WorkingDir ?? "", path);
  d.image.config.WorkingDir = wd;
  if (!commit || !ctx) return;
  if (wd !== "/") {
    const user = d.image.config.User;
    const name = prefixCommand(d, nameWithEnv(ctx, d.state.env(), c?.code ?? `WORKDIR ${path}`), d.state.env());
    const location = c ? locationOption(ctx.sourceMap, lineRanges(c.startLine, c.endLine)) : {};
    d.state = d.state.file(mkdir(wd, 0o755, { parents: true, owner: user || undefined }), { name, ...location });
  }
  addHistory(d, `WORKDIR ${wd}`, wd !== "/", false);
}

export function dispatchCommand(d: DispatchState, c: Command, sources: readonly (DispatchState | undefined)[], ctx: DispatchContext): void {
  expand(c, ctx, d.state.env());
  const cfg = d.image.config;
  switch (c.kind) {
    case "maintainer":
      d.image.author = c.maintainer;
      return addHistory(d, `MAINTAINER ${c.maintainer}`, false, false);
    case "env":
      for (const e of c.env) {
        d.state = d.state.addEnv(e.key, e.value);
        cfg.Env = setEnv(cfg.Env, e.key, e.value);
      }
      return addHistory(d, `ENV ${c.env.map((e) => `${e.key}=${e.value}`).join(" ")}`, false, false);
    case "run":
      return dispatchRun(d, c, sources, ctx);
    case "workdir":
      return dispatchWorkdir(d, c.path, true, ctx, c);
    case "add":
      dispatchCopy(d, { params: c.params, startLine: c.startLine, endLine: c.endLine, source: ctx.buildContext, isAdd: true, code: c.code, chown: c.chown, chmod: c.chmod, link: c.link, checksum: c.checksum }, ctx);
      for (const s of c.params.sources) if (!/^https?:\/\//.test(s)) d.ctxPaths.add(posix.join("/", s));
      return;
    case "copy": {
      const from = sources[0];
      dispatchCopy(d, { params: c.params, startLine: c.startLine, endLine: c.endLine, source: from ? from.state : ctx.buildContext, isAdd: false, code: c.code, chown: c.chown, chmod: c.chmod, link: c.link, checksum: "" }, ctx);
      if (!from) for (const s of c.params.sources) d.ctxPaths.add(posix.join("/", s));
      return;
    }
    case "label":
      cfg.Labels ??= {};
      for (const l of c.labels) cfg.Labels[l.key] = l.value;
      return addHistory(d, `LABEL ${c.labels.map((l) => `${l.key}=${l.value}`).join(" ")}`, false, false);
    case "onbuild":
      (cfg.OnBuild ??= []).push(c.expression);
      return;
    case "cmd": {
      const args = c.prependShell ? withShell(d.image, c.cmdLine) : c.cmdLine;
      cfg.Cmd = args;
      cfg.ArgsEscaped = true;
      d.cmdSet = true;
      return addHistory(d, `CMD ${goQuoteList(args)}`, false, false);
    }
    case "entrypoint": {
      const args = c.prependShell ? withShell(d.image, c.cmdLine) : c.cmdLine;
      cfg.Entrypoint = args.length ? args : null;
      if (!d.cmdSet) cfg.Cmd = null;
      return addHistory(d, `ENTRYPOINT ${goQuoteList(args)}`, false, false);
    }
    case "healthcheck":
      cfg.Healthcheck = c.health;
      return addHistory(d, `HEALTHCHECK ${goHealth(c.health)}`, false, false);
    case "expose": {
      const env = envMap(d.state.env());
      const ports = c.ports.flatMap((p) => processWord(p, env, { escape: ctx.escape }).words);
      cfg.ExposedPorts ??= {};
      for (const p of ports) cfg.ExposedPorts[p.includes("/") ? p : `${p}/tcp`] = {};
      return addHistory(d, `EXPOSE map[${ports.map((p) => `${p.includes("/") ? p : `${p}/tcp`}:{}`).join(" ")}]`, false, false);
    }
    case "user":
      d.state = d.state.user(c.user);
      cfg.User = c.user;
      return addHistory(d, `USER ${c.user}`, false, false);
    case "volume":
      cfg.Volumes ??= {};
      for (const v of c.volumes) {
        if (v === "") throw new Error("VOLUME specified can not be an empty string");
        cfg.Volumes[v] = {};
      }
      return addHistory(d, `VOLUME [${c.volumes.join(" ")}]`, false, false);
    case "stopsignal":
      cfg.StopSignal = c.signal;
      return addHistory(d, `STOPSIGNAL ${c.signal}`, false, false);
    case "shell":
      cfg.Shell = c.shell;
      return addHistory(d, `SHELL [${c.shell.join(" ")}]`, false, false);
    case "arg":
      return dispatchArg(d, c.args, ctx);
    default: {
      const never: never = c;
      throw new Error(`unexpected instruction ${JSON.stringify(never)}`);
    }
  }
}

function dispatchArg(d: DispatchState, args: readonly { key: string; value?: string }[], ctx: DispatchContext): void {
  const commits: string[] = [];
  for (const arg of args) {
    let value = Object.hasOwn(ctx.buildArgs, arg.key) ? ctx.buildArgs[arg.key] : arg.value;
    commits.push(arg.value === undefined ? arg.key : `${arg.key}=${arg.value}`);
    if (value === undefined) for (const ma of ctx.metaArgs) if (ma.key === arg.key) value = ma.value;
    if (value !== undefined && !NON_ENV_ARGS.has(arg.key)) d.state = d.state.addEnv(arg.key, value);
    d.buildArgs.push({ key: arg.key, value });
  }
  addHistory(d, `ARG ${commits.join(" ")}`, false, false);
}

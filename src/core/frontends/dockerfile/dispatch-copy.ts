/** COPY and ADD → a file op of copy actions (convert.go's dispatchCopy). */
import { posix } from "node:path";
import { copy, http, merge, mkfile, scratch, type CopyOptions, type FileAction, type State } from "../../llb/index.ts";
import { addHistory } from "./image-config.ts";
import type { CopyParams } from "./instructions.ts";
import { nameWithEnv, type DispatchContext } from "./dispatch-context.ts";
import { prefixCommand, type DispatchState } from "./dispatch-state.ts";
import { lineRanges, locationOption } from "./source-location.ts";

export interface CopyConfig {
  params: CopyParams;
  /** The instruction's lines (1-based, inclusive). */
  startLine: number;
  endLine: number;
  source: State;
  isAdd: boolean;
  code: string;
  chown: string;
  chmod: string;
  link: boolean;
  checksum: string;
}

const isHTTP = (s: string) => s.startsWith("http://") || s.startsWith("https://");

/** A git URL that cannot be a local path: BuildKit 0.11 accepts it in ADD only in its labs build. */
function isGitRef(s: string): boolean {
  return /^(git@|git:\/\/|ssh:\/\/)/.test(s) || /^https?:\/\/.*\.git(#.*)?$/.test(s) || /^github\.com\//.test(s);
}

export function dispatchCopy(d: DispatchState, cfg: CopyConfig, ctx: DispatchContext): void {
  const destPath = cfg.params.dest;
  const rel = posix.isAbsolute(destPath) ? destPath : posix.join(d.state.getDir(), destPath);
  let dest = posix.join("/", rel);
  if (destPath === "." || destPath === "" || destPath.endsWith("/")) dest += "/";
  const owner = cfg.chown || undefined;
  let mode: number | undefined;
  if (cfg.chmod && /^[0-7]+$/.test(cfg.chmod)) mode = parseInt(cfg.chmod, 8);
  if (cfg.checksum) {
    if (!cfg.isAdd) throw new Error("checksum can't be specified for COPY");
    throw new Error("instruction 'ADD --checksum=<CHECKSUM>' requires the labs channel");
  }
  let commit = cfg.isAdd ? "ADD" : "COPY";
  let action: FileAction | undefined;
  const add = (from: State, src: string, o: CopyOptions) => {
    const opts: CopyOptions = { ...o, mode, owner };
    action = action ? action.copy(from, src, dest, opts) : copy(from, src, dest, opts);
  };
  for (const src of cfg.params.sources) {
    commit += ` ${src}`;
    if (isGitRef(src) && !isHTTP(src.replace(/\.git(#.*)?$/, ""))) {
      throw new Error(cfg.isAdd ? "instruction ADD <git ref> requires the labs channel" : "source can't be a git ref for COPY");
    }
    if (isHTTP(src)) {
      if (!cfg.isAdd) throw new Error("source can't be a URL for COPY");
      let f = "__unnamed__";
      try {
        const base = posix.basename(new URL(src).pathname);
        if (base !== "." && base !== "/" && base !== "") f = base;
      } catch {
        // an unparsable URL keeps the default name, as Go's does
      }
      // Go passes the params struct, which has no String(): an empty command description.
      add(http(src, { filename: f, description: { "com.docker.dockerfile.v1.command": "" } }), f, { createDestPath: true });
      continue;
    }
    add(cfg.source, posix.join("/", src), {
      followSymlinks: true,
      copyDirContentsOnly: true,
      attemptUnpack: cfg.isAdd || undefined,
      createDestPath: true,
      allowWildcard: true,
      allowEmptyWildcard: true,
    });
  }
  for (const content of cfg.params.contents) {
    commit += ` <<${content.path}`;
    const st = scratch().file(mkfile(content.path, 0o664, content.data), { name: "[internal] preparing inline document" });
    add(st, content.path, { createDestPath: true });
  }
  commit += ` ${destPath}`;
  if (!action) throw new Error(`${cfg.isAdd ? "ADD" : "COPY"}: no source files`);
  const env = d.state.env();
  const name = nameWithEnv(ctx, env, cfg.code);
  if (cfg.link && !cfg.chmod) {
    const pgId = `df-${d.stageName}-${d.cmdIndex}-${Math.random().toString(36).slice(2, 10)}`;
    const pgName = prefixCommand(d, name, env);
    d.cmdIndex--;
    const layer = scratch().file(action, { progressGroup: { id: pgId, name: pgName, weak: true } });
    const merged = merge([d.state, layer], { progressGroup: { id: pgId, name: pgName }, name: prefixCommand(d, `LINK ${name}`, env) });
    d.state = d.state.withOutput(merged.output());
  } else {
    // Only here: Go builds the --link ops' options by copy()ing into nil slices, so they get no location.
    d.state = d.state.file(action, { name: prefixCommand(d, name, env), ...locationOption(ctx.sourceMap, lineRanges(cfg.startLine, cfg.endLine)) });
  }
  addHistory(d, commit, true, true);
}

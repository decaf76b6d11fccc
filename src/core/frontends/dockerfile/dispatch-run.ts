/** RUN → an exec op: shell form, heredocs, --mount, --network, --security (convert.go's dispatchRun). */
import { posix } from "node:path";
import { mkdir, mkfile, scratch, type MountSpec, type ProxyEnv, type RunOptions, type SecretSpec, type SSHSpec, type State } from "../../llb/index.ts";
import { addHistory, type DockerfileImage } from "./image-config.ts";
import type { Command } from "./instructions.ts";
import { chompHeredoc, parseHeredocMarker } from "./parser.ts";
import { parseMount, type RunMount } from "./run-mounts.ts";
import { envMap } from "./shell-lex.ts";
import { cleanPath } from "../../llb/path.ts";
import { Cap } from "../../llb/caps.ts";
import { expandWord, nameWithEnv, type DispatchContext } from "./dispatch-context.ts";
import { prefixCommand, type DispatchState } from "./dispatch-state.ts";
import { lineRanges, locationOption } from "./source-location.ts";

type Run = Extract<Command, { kind: "run" }>;

export function withShell(img: DockerfileImage, args: readonly string[]): string[] {
  const shell = img.config.Shell?.length ? [...img.config.Shell] : img.os === "windows" ? ["cmd", "/S", "/C"] : ["/bin/sh", "-c"];
  return [...shell, args.join(" ")];
}

function summarizeHeredoc(doc: string): string {
  const lines = doc.trim().replace(/\r\n/g, "\n").split("\n");
  return lines.length > 1 ? `${lines[0]}...` : lines[0]!;
}

export function dispatchRun(d: DispatchState, c: Run, sources: readonly (DispatchState | undefined)[], ctx: DispatchContext): void {
  const opts: RunOptions & { mounts: MountSpec[]; secrets: SecretSpec[]; ssh: SSHSpec[] } = { mounts: [], secrets: [], ssh: [] };
  let customName = c.code;
  let args = [...c.cmdLine];
  const file = c.files[0];
  if (file) {
    if (args.length !== 1 || !c.prependShell) throw new Error(`parsing produced an invalid run command: [${args.join(" ")}]`);
    if (parseHeredocMarker(args[0]!)) {
      const data = file.chomp ? chompHeredoc(file.data) : file.data;
      if (d.image.os !== "windows" && file.data.startsWith("#!")) {
        // A single heredoc with a shebang: a file to run, mounted read-only.
        const st = scratch().dir("/").file(mkfile(file.name, 0o755, data), { name: "[internal] preparing inline document" });
        opts.mounts.push({ dest: "/dev/pipes/", source: st, selector: "/", readonly: true });
        args = [posix.join("/dev/pipes/", file.name)];
      } else args = [data];
      customName += ` (${summarizeHeredoc(file.data)})`;
    } else {
      let full = args[0]!;
      for (const f of c.files) full += `\n${f.data}${f.name}`;
      args = [full];
    }
  }
  if (c.prependShell) args = withShell(d.image, args);
  const env = d.state.env();
  opts.args = args;
  opts.description = { "com.docker.dockerfile.v1.command": c.code };
  Object.assign(opts, locationOption(ctx.sourceMap, lineRanges(c.startLine, c.endLine)));
  runMounts(d, c, sources, ctx, opts);
  if (c.security === "insecure") opts.security = "insecure";
  if (c.network === "none" || c.network === "host") opts.network = c.network;
  const proxy = proxyEnvFromBuildArgs(ctx.buildArgs);
  if (proxy) opts.proxyEnv = proxy;
  opts.name = prefixCommand(d, nameWithEnv(ctx, env, customName, true), env);
  applySandbox(opts, ctx);
  d.state = d.state.run(opts).root();
  addHistory(d, `RUN ${runCommandString(args, d.buildArgs, envMap(env))}`, true, true);
}

/**
 * The frontend attributes every RUN gets, after its own options as dispatchRun appends them:
 * ulimits (when the solver has exec.meta.ulimit), extra hosts, then a /dev/shm tmpfs of
 * shm-size bytes (when it has exec.mount.tmpfs.size).
 */
function applySandbox(opts: RunOptions & { mounts: MountSpec[] }, ctx: DispatchContext): void {
  const { extraHosts, shmSize, ulimits } = ctx.sandbox;
  if (ulimits.length && ctx.llbCaps.has(Cap.execMetaUlimit)) opts.ulimits = ulimits;
  if (extraHosts.length) opts.extraHosts = extraHosts;
  if (shmSize > 0 && ctx.llbCaps.has(Cap.execMountTmpfsSize)) opts.mounts.push({ dest: "/dev/shm", source: scratch(), tmpfs: { size: shmSize } });
}

const PROXY_ARGS: Record<string, keyof ProxyEnv> = { http_proxy: "httpProxy", https_proxy: "httpsProxy", ftp_proxy: "ftpProxy", no_proxy: "noProxy", all_proxy: "allProxy" };

/**
 * The proxy settings every RUN gets from the build args named like proxy variables, in any
 * case (HTTP_PROXY, https_proxy…), declared with ARG or not, as dockerfile2llb's
 * proxyEnvFromBuildArgs. None when no such build arg is given.
 */
export function proxyEnvFromBuildArgs(buildArgs: Readonly<Record<string, string>>): ProxyEnv | undefined {
  let proxy: ProxyEnv | undefined;
  for (const [k, v] of Object.entries(buildArgs)) {
    const field = PROXY_ARGS[k.toLowerCase()];
    if (field) (proxy ??= {})[field] = v;
  }
  return proxy;
}

function runCommandString(args: readonly string[], buildArgs: DispatchState["buildArgs"], env: ReadonlyMap<string, string>): string {
  const tmp = buildArgs.map((a) => `${a.key}=${env.get(a.key) ?? a.value ?? ""}`);
  return [...(tmp.length ? [`|${tmp.length}`, ...tmp] : []), ...args].join(" ");
}

function runMounts(d: DispatchState, c: Run, sources: readonly (DispatchState | undefined)[], ctx: DispatchContext, opts: RunOptions & { mounts: MountSpec[]; secrets: SecretSpec[]; ssh: SSHSpec[] }): void {
  const env = d.state.env();
  c.mounts.forEach((value, i) => {
    const m = parseMount(value, (w) => expandWord(ctx, env, w));
    if (!m.from && m.type === "cache") m.from = "scratch";
    let st = m.from ? sources[i]!.state : ctx.buildContext;
    const spec: Omit<MountSpec, "dest" | "source"> = {};
    if (m.type === "tmpfs") {
      st = scratch();
      spec.tmpfs = m.sizeLimit > 0 ? { size: m.sizeLimit } : true;
    }
    if (m.type === "secret") return opts.secrets.push(secret(m));
    if (m.type === "ssh") return opts.ssh.push(ssh(m));
    // A writable bind's changes are thrown away (the solver has exec.mount.bind.readwrite-nooutput).
    if (m.readonly) spec.readonly = true;
    else if (m.type === "bind") spec.noOutput = true;
    if (m.type === "cache") spec.cache = { id: `${ctx.sandbox.cacheIDNamespace}/${m.id || cleanPath(m.target)}`, sharing: m.sharing || "shared" };
    let target = m.target;
    if (!posix.isAbsolute(posix.normalize(m.target || "."))) target = posix.join("/", d.state.getDir(), m.target);
    if (target === "/") throw new Error(`invalid mount target "${target}"`);
    const src = posix.join("/", m.source);
    if (src !== "/") spec.selector = src;
    else if (m.uid !== undefined || m.gid !== undefined || m.mode !== undefined) {
      st = st.file(mkdir("/cache", m.mode ?? 0o755, { owner: { user: m.uid ?? 0, group: m.gid ?? 0 } }), { name: "[internal] settings cache mount permissions" });
      spec.selector = "/cache";
    }
    opts.mounts.push({ dest: target, source: st, ...spec });
    if (!m.from) d.ctxPaths.add(posix.join("/", m.source));
  });
}

function secret(m: RunMount): SecretSpec {
  let id = m.source || m.id;
  if (!id) id = posix.basename(m.target);
  const s: SecretSpec = { id, dest: m.target || `/run/secrets/${posix.basename(id)}`, optional: !m.required || undefined };
  if (m.uid !== undefined || m.gid !== undefined || m.mode !== undefined) Object.assign(s, { uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o400 });
  return s;
}

function ssh(m: RunMount): SSHSpec {
  if (m.source) throw new Error("ssh does not support source");
  const s: SSHSpec = { id: m.id || undefined, optional: !m.required || undefined };
  if (m.target) s.dest = m.target;
  if (m.uid !== undefined || m.gid !== undefined || m.mode !== undefined) Object.assign(s, { uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o600 });
  return s;
}

export type { State };

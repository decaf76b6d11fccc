// Parsing of `buildkit build` flags that take structured values, as buildctl spells them.
import { accessSync, constants, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseOutputSpec } from "../core/exporters/spec.ts";
import { oneLine, UsageError } from "./exit.ts";

/**
 * Every value of a repeatable flag (`--local a=x --local b=y`), in order. citty keeps only the
 * last occurrence, so they are read from the raw arguments.
 */
export function repeatedFlag(rawArgs: readonly string[], name: string, alias?: string): string[] {
  const spellings = [`--${name}`, ...(alias ? [`-${alias}`] : [])];
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i] ?? "";
    if (arg === "--") break;
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!spellings.includes(flag)) continue;
    if (eq > 0) values.push(arg.slice(eq + 1));
    else if (i + 1 < rawArgs.length) values.push(rawArgs[++i] ?? "");
  }
  return values;
}

/** `--local NAME=PATH`, repeatable. */
export function parseLocals(values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq <= 0 || eq === v.length - 1) throw new UsageError(`--local ${v}: expected NAME=PATH`);
    const name = v.slice(0, eq);
    if (out.has(name)) throw new UsageError(`--local ${name} given twice`);
    out.set(name, resolve(v.slice(eq + 1)));
  }
  return out;
}

/**
 * `--oci-layout NAME=PATH`, repeatable, as buildctl's: an OCI layout directory the build's
 * `oci-layout://` sources (oci.store NAME) and `context:X=oci-layout://NAME@sha256:…` read from.
 * PATH must be a directory; resolvePath makes it absolute (the client's rules when remote).
 */
export function parseOciLayouts(values: readonly string[], resolvePath: (p: string) => string = resolve): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq <= 0 || eq === v.length - 1) throw new UsageError(`--oci-layout must be 'id=path/to/layout', instead had invalid ${v}`);
    const name = v.slice(0, eq);
    if (out.has(name)) throw new UsageError(`--oci-layout ${name} given twice`);
    const dir = resolvePath(v.slice(eq + 1));
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      // reported below
    }
    if (!isDir) throw new UsageError(`--oci-layout ${v}: ${dir} is not a directory`);
    out.set(name, dir);
  }
  return out;
}

/** `--secret id=ID,src=PATH` or `id=ID,env=VAR`; the value is read only when a step needs it. */
export function parseSecrets(values: readonly string[]): Map<string, () => Promise<Uint8Array>> {
  const out = new Map<string, () => Promise<Uint8Array>>();
  for (const v of values) {
    const attrs = Object.fromEntries(v.split(",").map((kv) => kv.split("=", 2) as [string, string | undefined]));
    const id = attrs.id;
    const src = attrs.src ?? attrs.source;
    if (!id) throw new UsageError(`--secret ${v}: id is required`);
    if (src) {
      readableFile(`--secret ${v}`, src);
      out.set(id, async () => new Uint8Array(await Bun.file(src).arrayBuffer()));
    } else {
      const env = attrs.env ?? id;
      const value = process.env[env];
      if (value === undefined) throw new UsageError(`--secret ${v}: environment variable ${env} is not set`);
      out.set(id, async () => new TextEncoder().encode(value));
    }
  }
  return out;
}

/** `--ssh ID=SOCKET`, or `--ssh ID` / `--ssh default` for $SSH_AUTH_SOCK. */
export function parseSSH(values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const [id = "", socket = process.env.SSH_AUTH_SOCK] = v.split("=", 2);
    if (!id) throw new UsageError(`--ssh ${v}: expected ID[=SOCKET]`);
    if (!socket) throw new UsageError(`--ssh ${v}: no socket given and SSH_AUTH_SOCK is not set`);
    const st = statSync(socket, { throwIfNoEntry: false });
    if (!st) throw new UsageError(`--ssh ${v}: ${socket} does not exist`);
    if (!st.isSocket()) throw new UsageError(`--ssh ${v}: ${socket} is not a socket`);
    out.set(id, resolve(socket));
  }
  return out;
}

/** A file the build will read (`--secret src=`, `--config`): it must be there, a file, readable. */
export function readableFile(flag: string, path: string): void {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new UsageError(`${flag}: ${path} does not exist`);
  if (st.isDirectory()) throw new UsageError(`${flag}: ${path} is a directory, not a file`);
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    throw new UsageError(`${flag}: reading ${path}: ${oneLine(err)}`);
  }
}

/** Every `--output` dest (a file or a directory) must have an existing parent directory. */
export function checkOutputDests(specs: readonly string[]): void {
  for (const spec of specs) {
    let dest: string | undefined;
    try {
      dest = parseOutputSpec(spec).attrs.dest;
    } catch {
      continue; // the exporter reports a malformed spec in its own words
    }
    if (dest) outputFilePath(`--output ${spec}`, dest);
  }
}

/**
 * A file the build will write (`--metadata-file`, an output's dest), checked before the build:
 * its directory must exist (none is created on the way). Undefined and "-" (stdout) pass through.
 */
export function outputFilePath(flag: string, path: string | undefined): string | undefined {
  if (path === undefined || path === "-") return path;
  if (path === "") throw new UsageError(`${flag}: empty path`);
  const full = resolve(path);
  const parent = dirname(full);
  const st = statSync(parent, { throwIfNoEntry: false });
  if (!st) throw new UsageError(`${flag} ${path}: directory ${parent} does not exist`);
  if (!st.isDirectory()) throw new UsageError(`${flag} ${path}: ${parent} is not a directory`);
  return full;
}

/** /var/lib/buildkit-ts as root, the XDG data directory otherwise. */
export function defaultRoot(): string {
  if (process.getuid?.() === 0) return "/var/lib/buildkit-ts";
  return join(process.env.XDG_DATA_HOME || join(homedir(), ".local/share"), "buildkit-ts");
}

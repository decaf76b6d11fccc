/** `RUN --mount=type=…,…` values, read as BuildKit 0.11 reads them (instructions/commands_runmount.go). */
import { readGoCsvRecord } from "../../go-csv.ts";
export type MountType = "bind" | "cache" | "tmpfs" | "secret" | "ssh";
export type Sharing = "shared" | "private" | "locked";

export interface RunMount {
  type: MountType;
  from: string;
  source: string;
  target: string;
  readonly: boolean;
  sizeLimit: number;
  id: string;
  sharing: Sharing | "";
  required: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
}

const TYPES = new Set(["bind", "cache", "tmpfs", "secret", "ssh"]);
const SHARING = new Set(["shared", "private", "locked"]);

/** One CSV record, as Go's encoding/csv reads it; BuildKit's wording on failure. */
export function csvFields(s: string): string[] {
  try {
    return readGoCsvRecord(s);
  } catch (err) {
    throw new Error(`failed to parse csv mounts: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function parseBool(key: string, v: string): boolean {
  if (/^(1|t|T|TRUE|true|True)$/.test(v)) return true;
  if (/^(0|f|F|FALSE|false|False)$/.test(v)) return false;
  throw new Error(`invalid value for ${key}: ${v}`);
}

function parseUint(v: string, base: 8 | 10, what: string): number {
  const ok = base === 8 ? /^[0-7]+$/.test(v) : /^\d+$/.test(v);
  const n = ok ? parseInt(v, base) : NaN;
  if (!ok || n > 0xffffffff) throw new Error(`invalid value ${v} for ${what}`);
  return n;
}

/** docker/go-units RAMInBytes: "64m", "1g", "512" (binary multiples). */
export function ramInBytes(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i.exec(v.trim());
  if (!m) throw new Error(`invalid size: '${v}'`);
  const mul = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[m[2]!.toLowerCase() as "" | "k"]!;
  return Math.trunc(Number(m[1]) * mul);
}

/** Parses one --mount value; each value is expanded with `expand` first. */
export function parseMount(value: string, expand: (w: string) => string): RunMount {
  const m: RunMount = { type: "bind", from: "", source: "", target: "", readonly: false, sizeLimit: 0, id: "", sharing: "", required: false };
  let roAuto = true;
  for (const field of csvFields(value)) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === "readonly" || key === "ro" || key === "readwrite" || key === "rw") {
        m.readonly = key === "readonly" || key === "ro";
        roAuto = false;
        continue;
      }
      if (key === "required") {
        if (m.type !== "secret" && m.type !== "ssh") throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        m.required = true;
        continue;
      }
      throw new Error(`invalid field '${field}' must be a key=value pair`);
    }
    const v = expand(field.slice(eq + 1));
    switch (key) {
      case "type":
        if (!TYPES.has(v.toLowerCase())) throw new Error(`unsupported mount type "${v}"`);
        m.type = v.toLowerCase() as MountType;
        break;
      case "from":
        m.from = v;
        break;
      case "source":
      case "src":
        m.source = v;
        break;
      case "target":
      case "dst":
      case "destination":
        m.target = v;
        break;
      case "readonly":
      case "ro":
        m.readonly = parseBool(key, v);
        roAuto = false;
        break;
      case "readwrite":
      case "rw":
        m.readonly = !parseBool(key, v);
        roAuto = false;
        break;
      case "required":
        if (m.type !== "secret" && m.type !== "ssh") throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        m.required = parseBool(key, v);
        break;
      case "size":
        if (m.type !== "tmpfs") throw new Error(`unexpected key '${key}' for mount type '${m.type}'`);
        m.sizeLimit = ramInBytes(v);
        break;
      case "id":
        m.id = v;
        break;
      case "sharing":
        if (!SHARING.has(v.toLowerCase())) throw new Error(`unsupported sharing value "${v}"`);
        m.sharing = v.toLowerCase() as Sharing;
        break;
      case "mode":
        m.mode = parseUint(v, 8, "mode");
        break;
      case "uid":
        m.uid = parseUint(v, 10, "uid");
        break;
      case "gid":
        m.gid = parseUint(v, 10, "gid");
        break;
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  const fileInfo = m.type === "secret" || m.type === "ssh" || m.type === "cache";
  for (const k of ["mode", "uid", "gid"] as const) if (m[k] !== undefined && !fileInfo) throw new Error(`${k} not allowed for "${m.type}" type mounts`);
  if (roAuto) m.readonly = !(m.type === "cache" || m.type === "tmpfs");
  if (m.sharing && m.type !== "cache") throw new Error(`invalid cache sharing set for ${m.type} mount`);
  if (m.type === "secret") {
    if (m.from) throw new Error("secret mount should not have a from");
    if (!m.source && !m.target && !m.id) throw new Error("invalid secret mount. one of source, target required");
    if (m.source && m.id) throw new Error("both source and id can't be set");
  }
  return m;
}

/** The `from=` stages a RUN's mounts read, found without expanding anything (for stage ordering). */
export function mountSources(values: readonly string[]): string[] {
  return values.map((v) => {
    let from = "";
    for (const f of csvFields(v)) {
      const eq = f.indexOf("=");
      if (eq >= 0 && f.slice(0, eq).toLowerCase() === "from") {
        from = f.slice(eq + 1);
        if (/\$./.test(from)) throw new Error("'from' doesn't support variable expansion, define alias stage instead");
      }
    }
    return from;
  });
}

import { invalidArgument } from "../errors.ts";

/** `--output type=local,dest=out` as buildctl spells it: comma-separated key=value pairs. */
export interface OutputSpec {
  readonly type: string;
  readonly attrs: Readonly<Record<string, string>>;
}

export function parseOutputSpec(spec: string): OutputSpec {
  const attrs: Record<string, string> = {};
  for (const part of spec.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw invalidArgument(`parsing --output "${spec}": "${part}" is not key=value`);
    const key = part.slice(0, eq).trim();
    if (key in attrs) throw invalidArgument(`parsing --output "${spec}": ${key} given twice`);
    attrs[key] = part.slice(eq + 1).trim();
  }
  const { type, ...rest } = attrs;
  if (!type) throw invalidArgument(`parsing --output "${spec}": type is required (type=local|tar|…)`);
  return { type, attrs: rest };
}

/** The one required attribute `dest`, with an error naming the exporter. */
export function requireDest(type: string, attrs: Readonly<Record<string, string>>): string {
  const dest = attrs.dest;
  if (!dest) throw invalidArgument(`output type=${type}: dest is required`);
  return dest;
}

export function rejectUnknownAttrs(type: string, attrs: Readonly<Record<string, string>>, known: readonly string[]): void {
  const unknown = Object.keys(attrs).filter((k) => !known.includes(k));
  if (unknown.length) throw invalidArgument(`output type=${type}: unknown attribute ${unknown.join(", ")}`);
}

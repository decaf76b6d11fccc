import { invalidArgument } from "../errors.ts";
import { readKeyValueRecord } from "../go-csv.ts";

/** `--output type=local,dest=out` as buildctl spells it: comma-separated key=value pairs. */
export interface OutputSpec {
  readonly type: string;
  readonly attrs: Readonly<Record<string, string>>;
}

/**
 * Read as buildctl reads it (Go's encoding/csv): a field in double quotes may hold commas, and ""
 * inside it is one quote. So a JSON value goes in as
 * "containerimage.config={""config"":{""Entrypoint"":[""a"",""b""]}}".
 */
export function parseOutputSpec(spec: string): OutputSpec {
  let attrs: Record<string, string>;
  try {
    attrs = readKeyValueRecord(spec);
  } catch (err) {
    throw invalidArgument(`parsing --output "${spec}": ${err instanceof Error ? err.message : String(err)}`);
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

/** The exporter attribute that dates what an export writes (BuildKit's epoch.KeySourceDateEpoch). */
export const SOURCE_DATE_EPOCH_ATTR = "source-date-epoch";
const SOURCE_DATE_EPOCH_ARG = "build-arg:SOURCE_DATE_EPOCH";

/** `source-date-epoch=SECONDS`: undefined when absent or empty; a bad value names the exporter. */
export function parseSourceDateEpoch(type: string, value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  if (!/^-?\d+$/.test(value)) throw invalidArgument(`output type=${type}: ${SOURCE_DATE_EPOCH_ATTR} must be an integer, not "${value}"`);
  const epoch = Number(value);
  if (epoch < 0) throw invalidArgument(`output type=${type}: ${SOURCE_DATE_EPOCH_ATTR} must not be negative`);
  return epoch;
}

/**
 * An exporter's attributes with the frontend's `build-arg:SOURCE_DATE_EPOCH` as its
 * source-date-epoch when it has none, as BuildKit's control.Solve hands it on.
 */
export function withFrontendEpoch(attrs: Readonly<Record<string, string>>, frontendAttrs: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> {
  const arg = frontendAttrs?.[SOURCE_DATE_EPOCH_ARG];
  if (arg === undefined || Object.hasOwn(attrs, SOURCE_DATE_EPOCH_ATTR)) return attrs;
  return { ...attrs, [SOURCE_DATE_EPOCH_ATTR]: arg };
}

export function rejectUnknownAttrs(type: string, attrs: Readonly<Record<string, string>>, known: readonly string[]): void {
  const unknown = Object.keys(attrs).filter((k) => !known.includes(k));
  if (unknown.length) throw invalidArgument(`output type=${type}: unknown attribute ${unknown.join(", ")}`);
}

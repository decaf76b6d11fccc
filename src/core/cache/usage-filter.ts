// Filters on usage records, in BuildKit's spelling (`--filter type==regular`, `id~=^abc`,
// `description~=apk`, `inuse`, `until=24h`). One flag value may hold several terms separated by
// commas. Terms on the same field are alternatives (any may match), terms on different fields
// must all match, as docker's filters combine them: `type==source.local,type==exec.cachemount`
// selects either type, `type==regular --filter description~=make` regular records about make.
import { BuildkitError } from "../errors.ts";
import { parseDuration } from "./units.ts";
import type { UsageRecord } from "./usage.ts";

type StringField = "id" | "parent" | "description" | "type";
type FlagField = "inuse" | "shared" | "private" | "mutable" | "immutable";

export type UsageFilter =
  | { readonly field: StringField; readonly op: "==" | "!="; readonly value: string }
  | { readonly field: StringField; readonly op: "~="; readonly value: RegExp }
  | { readonly field: FlagField }
  /** Last used longer ago than this many milliseconds. */
  | { readonly field: "until"; readonly ms: number };

const STRING_FIELDS: readonly string[] = ["id", "parent", "description", "type"];
const FLAG_FIELDS: readonly string[] = ["inuse", "shared", "private", "mutable", "immutable"];

/** Parses filter flag values; an unknown field or bad value is an InvalidArgument error. */
export function parseFilters(values: readonly string[]): UsageFilter[] {
  return values.flatMap((v) => v.split(",").filter((t) => t.trim() !== "").map((t) => parseTerm(t.trim())));
}

function parseTerm(term: string): UsageFilter {
  const m = /^([a-z]+)\s*(==|!=|~=|=)\s*(.*)$/.exec(term);
  if (!m) {
    if (FLAG_FIELDS.includes(term)) return { field: term as FlagField };
    throw invalid(term, `expected FIELD==VALUE, FIELD!=VALUE, FIELD~=REGEXP or one of ${FLAG_FIELDS.join(", ")}`);
  }
  const [, field = "", op = "", value = ""] = m;
  if (field === "until") {
    if (op !== "=" && op !== "==") throw invalid(term, "until takes a duration: until=24h");
    return { field, ms: parseDuration(value) };
  }
  if (!STRING_FIELDS.includes(field)) throw invalid(term, `unknown field ${field} (known: ${[...STRING_FIELDS, ...FLAG_FIELDS, "until"].join(", ")})`);
  const f = field as StringField;
  if (op !== "~=") return { field: f, op: op === "!=" ? "!=" : "==", value };
  try {
    return { field: f, op, value: new RegExp(value) };
  } catch (err) {
    throw invalid(term, err instanceof Error ? err.message : String(err));
  }
}

function invalid(term: string, why: string): BuildkitError {
  return new BuildkitError("InvalidArgument", `parsing filter ${JSON.stringify(term)}: ${why}`);
}

/** Whether r passes every field's filters (any one of a field's terms). */
export function matchFilters(r: UsageRecord, filters: readonly UsageFilter[], now: number): boolean {
  const byField = new Map<string, UsageFilter[]>();
  for (const f of filters) byField.set(f.field, [...(byField.get(f.field) ?? []), f]);
  return [...byField.values()].every((terms) => terms.some((f) => matchOne(r, f, now)));
}

function matchOne(r: UsageRecord, f: UsageFilter, now: number): boolean {
  switch (f.field) {
    case "inuse":
      return r.inUse;
    case "shared":
      return r.shared;
    case "private":
      return !r.shared;
    case "mutable":
      return false;
    case "immutable":
      return true;
    case "until":
      return (r.lastUsed ?? r.created) < now - f.ms;
    case "id":
    case "parent":
    case "description":
    case "type":
      return matchString(stringField(r, f.field), f);
    default: {
      const never: never = f;
      throw new BuildkitError("Internal", `matching filter: unknown field ${JSON.stringify(never)}`);
    }
  }
}

function stringField(r: UsageRecord, field: StringField): string {
  return field === "parent" ? (r.parent ?? "") : r[field];
}

function matchString(value: string, f: Extract<UsageFilter, { op: string }>): boolean {
  if (f.op === "~=") return f.value.test(value);
  return f.op === "==" ? value === f.value : value !== f.value;
}

/**
 * mode=max provenance's build configuration, as BuildKit v0.11's provenance/buildconfig.go
 * makes it: the result's LLB as steps ("step0", …, depth first from the terminal op, inputs
 * before dependants; each op printed as `buildctl debug dump-llb` prints it, its inputs moved to
 * "stepN:INDEX" strings and local.session/local.unique attributes dropped), the op digests they
 * came from, and the definition's source map (files and the steps' locations in them) if any.
 */
import { sha256 } from "../digest.ts";
import { opJSON } from "../llb/dump.ts";
import { decodeMessage } from "../pb/decode.ts";
import type { pb } from "../pb/index.ts";
import { OPS_SCHEMA } from "../pb/ops-schema.ts";
import { goSorted } from "../go-json.ts";

export interface BuildStep {
  readonly id: string;
  readonly op: unknown;
  readonly inputs?: readonly string[];
}

export interface BuildConfig {
  readonly llbDefinition?: readonly BuildStep[];
  readonly digestMapping?: Readonly<Record<string, string>>;
}

/** BuildKitMetadata.Source: where the steps come from in the files a frontend read. */
export interface SourceMetadata {
  readonly locations?: Readonly<Record<string, unknown>>;
  readonly infos?: readonly unknown[];
}

/** The build configuration of a definition, and its source map when it has files (infos). */
export function buildConfigOf(definition: Uint8Array): { config: BuildConfig; source?: SourceMetadata } {
  const def = decodeMessage<pb.Definition>(OPS_SCHEMA, "Definition", definition);
  const { steps, indexes } = toBuildSteps(def.def);
  const config = withMapping(steps, indexes);
  const infos = def.Source?.infos ?? [];
  if (infos.length === 0) return { config };
  const locations: Record<string, unknown> = {};
  for (const [dgst, locs] of Object.entries(def.Source?.locations ?? {})) {
    const i = indexes.get(dgst);
    if (i !== undefined) locations[`step${i}`] = locationsJSON(locs);
  }
  const infoJSON = infos.map((si) => {
    const own = toBuildSteps(si.definition?.def ?? []);
    const mapped = withMapping(own.steps, own.indexes);
    return {
      ...(si.filename ? { filename: si.filename } : {}),
      ...(si.data && si.data.length > 0 ? { data: Buffer.from(si.data).toString("base64") } : {}),
      ...mapped,
    };
  });
  return { config, source: { ...(Object.keys(locations).length > 0 ? { locations: goSorted(locations) } : {}), infos: infoJSON } };
}

function withMapping(steps: BuildStep[] | undefined, indexes: ReadonlyMap<string, number>): BuildConfig {
  const mapping = goSorted(Object.fromEntries([...indexes].map(([d, i]) => [d, `step${i}`])));
  return { ...(steps?.length ? { llbDefinition: steps } : {}), ...(Object.keys(mapping).length > 0 ? { digestMapping: mapping } : {}) };
}

/** toBuildSteps: the ops reachable from the last (terminal) op, depth first, inputs first. */
function toBuildSteps(defs: readonly Uint8Array[]): { steps?: BuildStep[]; indexes: Map<string, number> } {
  const ops = new Map<string, pb.Op>();
  let last: string | undefined;
  for (const bytes of defs) {
    const op = decodeMessage<pb.Op>(OPS_SCHEMA, "Op", bytes);
    last = sha256(bytes);
    ops.set(last, op);
  }
  if (last === undefined) return { indexes: new Map() };
  const terminal = ops.get(last)!;
  if (terminal.op !== undefined && terminal.op !== null) throw new Error(`invalid last vertex: ${terminal.op}`);
  if (terminal.inputs.length !== 1) throw new Error(`invalid last vertex inputs: ${terminal.inputs.length}`);
  const order: string[] = [];
  const visited = new Set<string>();
  const walk = (d: string): void => {
    if (visited.has(d)) return;
    const op = ops.get(d);
    if (op === undefined) throw new Error(`failed to find input ${d}`);
    visited.add(d);
    for (const input of op.inputs) walk(input.digest ?? "");
    order.push(d);
  };
  walk(last);
  const indexes = new Map(order.map((d, i) => [d, i]));
  const steps = order.map((d, i): BuildStep => {
    const op = ops.get(d)!;
    const inputs = op.inputs.map((inp) => `step${indexes.get(inp.digest ?? "")}:${Number(inp.index ?? 0)}`);
    return { id: `step${i}`, op: opJSON(withoutSessionAttrs(op)), ...(inputs.length > 0 ? { inputs } : {}) };
  });
  return { steps, indexes };
}

/** The op with no inputs (they become step references) and a local source's per-session attributes dropped. */
function withoutSessionAttrs(op: pb.Op): pb.Op {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(op) as object) as pb.Op, op, { inputs: [] });
  if (op.source?.attrs) {
    const attrs = Object.fromEntries(Object.entries(op.source.attrs).filter(([k]) => k !== "local.session" && k !== "local.unique"));
    copy.source = Object.assign(Object.create(Object.getPrototypeOf(op.source) as object) as pb.SourceOp, op.source, { attrs });
  }
  return copy;
}

function locationsJSON(locs: pb.Locations.$Properties): unknown {
  const list = (locs.locations ?? []).map((l) => ({
    ...(l.sourceIndex ? { sourceIndex: l.sourceIndex } : {}),
    ...(l.ranges?.length ? { ranges: l.ranges.map((r) => ({ start: positionJSON(r.start), end: positionJSON(r.end) })) } : {}),
  }));
  return list.length > 0 ? { locations: list } : {};
}

function positionJSON(p: pb.Position.$Properties | null | undefined): unknown {
  return { ...(p?.line ? { line: p.line } : {}), ...(p?.character ? { character: p.character } : {}) };
}

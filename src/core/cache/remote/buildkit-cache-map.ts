/**
 * BuildKit's CacheMap of an op, as v0.11's solver/llbsolver/ops compute it: the op's part of
 * the cache key (a digest of the op's JSON as Go marshals it, with inputs left out) and, per
 * input, a selector digest and whether BuildKit also keys that input by content (a "slow" key
 * from contenthash over the selected paths). Records in BuildKit's cache config are
 * `rootKey(CacheMap digest, output)`, linked to their inputs' records with these selectors.
 *
 * Sources: the digest of `buildkit.source.v0:<key>` for each key the source gives (an image
 * has two: its manifest key and its config's chain ID). Local sources are session-bound in
 * BuildKit ("random:" keys) and never shared; see remote-keys.ts for what we do with them.
 */
import { posix } from "node:path";
import { sha256 } from "../../digest.ts";
import { base as goBase } from "../contenthash/go-path.ts";
import type { Digest } from "../../digest.ts";
import type { LoadedOp } from "../../llb/definition.ts";
import { hostPlatform } from "../../llb/platform.ts";
import type { pb } from "../../pb/index.ts";
import { goObject, goString, omitBool, omitBytes, omitList, omitNumber, omitString, omitStrings } from "./go-json.ts";

/** A path BuildKit checksums for a slow key (opsutils.Selector). */
export interface ContentSelector {
  readonly path: string;
  readonly followLinks: boolean;
  readonly wildcard: boolean;
  readonly includePatterns: readonly string[];
  readonly excludePatterns: readonly string[];
}

export interface CacheMapDep {
  /** The selector digest linking this input ("" for none). */
  readonly selector: string;
  /** When BuildKit adds a content-based key for this input: the paths it checksums. */
  readonly contentSelectors?: readonly ContentSelector[];
}

export interface BuildkitCacheMap {
  /** One per cache-map index (a source may have several); records use each. */
  readonly digests: readonly string[];
  readonly deps: readonly CacheMapDep[];
}

/** BuildKit's rootKey / remote cache outputKey: sha256("<digest>@<output>"). */
export function rootKey(dgst: string, output: number): Digest {
  return sha256(`${dgst}@${output}`);
}

/** The CacheMap of op, or undefined when BuildKit would not share its key. `sourceKeys`: a source's keys. */
export function buildkitCacheMap(op: LoadedOp, sourceKeys?: readonly string[]): BuildkitCacheMap | undefined {
  const o = op.op;
  switch (o.op) {
    case "source":
      if (!sourceKeys || sourceKeys.length === 0) return undefined;
      return { digests: sourceKeys.map((k) => sha256(`buildkit.source.v0:${k}`)), deps: [] };
    case "exec":
      return execCacheMap(o.exec!, platformOf(o), op.inputs.length);
    case "file":
      return fileCacheMap(o.file!, op.inputs.length);
    case "merge": {
      const json = goObject([["Type", goString("buildkit.merge.v0")], ["Merge", goObject([["inputs", omitList(o.merge!.inputs, (i) => goObject([["input", String(i.input ?? 0)]]))]])]]);
      // BuildKit uses the JSON itself as the "digest" here (digest.Digest(dt)), not its hash.
      return { digests: [json], deps: (o.merge!.inputs ?? []).map(() => ({ selector: "" })) };
    }
    case "diff": {
      const d = o.diff!;
      const input = (i: { input?: number | null } | null | undefined) => (i ? goObject([["input", String(i.input ?? 0)]]) : undefined);
      const json = goObject([["Type", goString("buildkit.diff.v0")], ["Diff", goObject([["lower", input(d.lower)], ["upper", input(d.upper)]])]]);
      const count = [d.lower, d.upper].filter((i) => i && i.input !== -1).length;
      return { digests: [json], deps: Array.from({ length: count }, () => ({ selector: "" })) };
    }
    case "build":
    case undefined:
      return undefined;
    default: {
      const never: never = o.op;
      return never;
    }
  }
}

function platformOf(o: pb.Op): { os: string; architecture: string; variant?: string } {
  const p = o.platform;
  const base = p?.OS && p.Architecture ? { os: p.OS, architecture: p.Architecture, variant: p.Variant || undefined } : hostPlatform();
  return normalizePlatform(base);
}

/** containerd's platforms.Normalize for the cases BuildKit meets. */
export function normalizePlatform(p: { os: string; architecture: string; variant?: string }): { os: string; architecture: string; variant?: string } {
  const os = p.os.toLowerCase();
  let arch = p.architecture.toLowerCase();
  let variant = p.variant;
  if (arch === "x86_64" || arch === "x86-64") arch = "amd64";
  else if (arch === "aarch64" || arch === "arm64") {
    arch = "arm64";
    if (variant === "8" || variant === "v8") variant = undefined;
  } else if (arch === "armhf") [arch, variant] = ["arm", "v7"];
  else if (arch === "armel") [arch, variant] = ["arm", "v6"];
  else if (arch === "arm" && (variant === undefined || variant === "" || variant === "7")) variant = "v7";
  else if (arch === "i386") arch = "386";
  return { os, architecture: arch, variant: variant || undefined };
}

// ---- exec ----

function execCacheMap(exec: pb.ExecOp.$Properties, platform: { os: string; architecture: string; variant?: string }, numInputs: number): BuildkitCacheMap {
  let mounts: readonly pb.Mount.$Properties[] | undefined = exec.mounts ?? [];
  const only = mounts?.length === 1 ? mounts[0]! : undefined;
  if (only && only.dest === "/" && !only.readonly && (only.mountType ?? 0) === 0 && !only.cacheOpt && !only.SSHOpt && !only.secretOpt && !only.resultID) mounts = undefined;
  const json = goObject([
    ["Type", goString("buildkit.exec.v0")],
    ["Exec", execJSON(exec, mounts)],
    ["OS", goString(platform.os)],
    ["Arch", goString(platform.architecture)],
    ["Variant", omitString(platform.variant)],
  ]);
  return { digests: [sha256(json)], deps: execDeps(exec, numInputs) };
}

function execJSON(exec: pb.ExecOp.$Properties, mounts: readonly pb.Mount.$Properties[] | undefined): string {
  const m = exec.meta;
  const meta = m
    ? goObject([
        ["args", omitStrings(m.args)],
        ["env", omitStrings(m.env)],
        ["cwd", omitString(m.cwd)],
        ["user", omitString(m.user)],
        // proxy_env is cleared; extra hosts keep their names only
        ["extraHosts", omitList(m.extraHosts, (h) => goObject([["Host", omitString(h.Host)]]))],
        ["hostname", omitString(m.hostname)],
        ["ulimit", omitList(m.ulimit, (u) => goObject([["Name", omitString(u.Name)], ["Soft", omitNumber(u.Soft)], ["Hard", omitNumber(u.Hard)]]))],
        ["cgroupParent", omitString(m.cgroupParent)],
        ["removeMountStubsRecursive", omitBool(m.removeMountStubsRecursive)],
      ])
    : undefined;
  return goObject([
    ["meta", meta],
    ["mounts", omitList(mounts, mountJSON)],
    ["network", omitNumber(exec.network)],
    ["security", omitNumber(exec.security)],
    ["secretenv", omitList(exec.secretenv, (s) => goObject([["ID", omitString(s.ID)], ["name", omitString(s.name)], ["optional", omitBool(s.optional)]]))],
  ]);
}

const idOpt = (o: { ID?: string | null; uid?: number | null; gid?: number | null; mode?: number | null; optional?: boolean | null }): string =>
  goObject([["ID", omitString(o.ID)], ["uid", omitNumber(o.uid)], ["gid", omitNumber(o.gid)], ["mode", omitNumber(o.mode)], ["optional", omitBool(o.optional)]]);

function mountJSON(m: pb.Mount.$Properties): string {
  return goObject([
    ["input", String(m.input ?? 0)],
    // selector is cleared
    ["dest", omitString(m.dest)],
    ["output", String(m.output ?? 0)],
    ["readonly", omitBool(m.readonly)],
    ["mountType", omitNumber(m.mountType)],
    ["TmpfsOpt", m.TmpfsOpt ? goObject([["size", omitNumber(m.TmpfsOpt.size)]]) : undefined],
    ["cacheOpt", m.cacheOpt ? goObject([["ID", omitString(m.cacheOpt.ID)], ["sharing", omitNumber(m.cacheOpt.sharing)]]) : undefined],
    ["secretOpt", m.secretOpt ? idOpt(m.secretOpt) : undefined],
    ["SSHOpt", m.SSHOpt ? idOpt(m.SSHOpt) : undefined],
    ["resultID", omitString(m.resultID)],
  ]);
}

function execDeps(exec: pb.ExecOp.$Properties, numInputs: number): CacheMapDep[] {
  const deps = Array.from({ length: numInputs }, () => ({ selectors: [] as string[], noContentHash: false }));
  for (const m of exec.mounts ?? []) {
    const input = m.input ?? 0;
    if (input === -1 || input >= numInputs) continue;
    const dep = deps[input]!;
    if (m.selector) dep.selectors.push(posix.join("/", m.selector));
    if ((!m.readonly || m.dest === "/") && m.output !== -1) dep.noContentHash = true;
  }
  return deps.map((d) => ({
    selector: d.selectors.length > 0 ? sha256(d.selectors.join("\0")) : "",
    contentSelectors: d.noContentHash ? undefined : dedupePaths(d.selectors).map((path) => selectorOf(path, true)),
  }));
}

function selectorOf(path: string, followLinks: boolean, more: Partial<ContentSelector> = {}): ContentSelector {
  return { path, followLinks, wildcard: false, includePatterns: [], excludePatterns: [], ...more };
}

/** Paths without those under another of them, sorted. */
function dedupePaths(paths: readonly string[]): string[] {
  const set = [...new Set(paths)];
  return set.filter((p1) => !set.some((p2) => p1 !== p2 && p1.startsWith(`${p2}/`))).sort(compareBytes);
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

// ---- file ----

function fileCacheMap(file: pb.FileOp.$Properties, numInputs: number): BuildkitCacheMap {
  const selectors = new Map<number, ContentSelector[]>();
  const invalid = new Set<number>();
  const add = (idx: number, s: ContentSelector) => selectors.set(idx, [...(selectors.get(idx) ?? []), s]);
  const owner = (c: pb.ChownOpt.$Properties | null | undefined) => {
    if (c?.user?.byName) add(c.user.byName.input ?? 0, selectorOf("/etc/passwd", true));
    if (c?.group?.byName) add(c.group.byName.input ?? 0, selectorOf("/etc/group", true));
  };
  const actions: string[] = [];
  const indexes: number[][] = [];
  for (const a of file.actions ?? []) {
    const input = a.input ?? 0;
    const secondary = a.secondaryInput ?? 0;
    if (input !== -1) invalid.add(input);
    let json = "null";
    if (a.mkdir) {
      owner(a.mkdir.owner);
      const p = a.mkdir;
      json = goObject([["path", omitString(p.path)], ["mode", omitNumber(p.mode)], ["makeParents", omitBool(p.makeParents)], ["owner", chownJSON(p.owner)], ["timestamp", omitNumber(p.timestamp)]]);
    } else if (a.mkfile) {
      owner(a.mkfile.owner);
      const p = a.mkfile;
      json = goObject([["path", omitString(p.path)], ["mode", omitNumber(p.mode)], ["data", omitBytes(p.data)], ["owner", chownJSON(p.owner)], ["timestamp", omitNumber(p.timestamp)]]);
    } else if (a.rm) {
      const p = a.rm;
      json = goObject([["path", omitString(p.path)], ["allowNotFound", omitBool(p.allowNotFound)], ["allowWildcard", omitBool(p.allowWildcard)]]);
    } else if (a.copy) {
      const p = a.copy;
      owner(p.owner);
      let src = p.src ?? "";
      if (secondary !== -1 && secondary < numInputs) {
        const wildcard = !!p.allowWildcard && /[*?[]/.test(src);
        add(secondary, selectorOf(src, !!p.followSymlink, { wildcard, includePatterns: p.include_patterns ?? [], excludePatterns: p.exclude_patterns ?? [] }));
        src = goBase(src);
      }
      json = copyJSON(p, src);
    }
    actions.push(goString(Buffer.from(json).toString("base64")));
    indexes.push([input, secondary, a.output ?? 0]);
  }
  const json = goObject([
    ["Type", goString("buildkit.file.v0")],
    ["Actions", actions.length > 0 ? `[${actions.join(",")}]` : "null"],
    ["indexes", isDefaultIndexes(indexes) ? undefined : `[${indexes.map((i) => `[${i.join(",")}]`).join(",")}]`],
  ]);
  const deps: CacheMapDep[] = [];
  for (let i = 0; i < numInputs; i++) {
    const sel = selectors.get(i);
    if (!sel || invalid.has(i)) deps.push({ selector: "" });
    else deps.push({ selector: sha256(sel.map((s) => s.path).sort((a, b) => compareBytes(b, a)).join("\0")), contentSelectors: dedupeSelectors(sel) });
  }
  return { digests: [sha256(json)], deps };
}

function copyJSON(p: pb.FileActionCopy.$Properties, src: string): string {
  return goObject([
    ["src", omitString(src)],
    ["dest", omitString(p.dest)],
    ["owner", chownJSON(p.owner)],
    ["mode", omitNumber(p.mode)],
    ["followSymlink", omitBool(p.followSymlink)],
    ["dirCopyContents", omitBool(p.dirCopyContents)],
    ["attemptUnpackDockerCompatibility", omitBool(p.attemptUnpackDockerCompatibility)],
    ["createDestPath", omitBool(p.createDestPath)],
    ["allowWildcard", omitBool(p.allowWildcard)],
    ["allowEmptyWildcard", omitBool(p.allowEmptyWildcard)],
    ["timestamp", omitNumber(p.timestamp)],
    ["include_patterns", omitStrings(p.include_patterns)],
    ["exclude_patterns", omitStrings(p.exclude_patterns)],
  ]);
}

function chownJSON(c: pb.ChownOpt.$Properties | null | undefined): string | undefined {
  if (!c) return undefined;
  const user = (u: pb.UserOpt.$Properties | null | undefined): string | undefined => {
    if (!u) return undefined;
    let inner = "null";
    if (u.user === "byName" && u.byName) inner = goObject([["byName", goObject([["name", omitString(u.byName.name)], ["input", String(u.byName.input ?? 0)]])]]);
    else if (u.user === "byID") inner = goObject([["byID", omitNumber(u.byID)]]);
    return goObject([["User", inner]]);
  };
  return goObject([["user", user(c.user)], ["group", user(c.group)]]);
}

function isDefaultIndexes(idxs: readonly number[][]): boolean {
  if (idxs.length === 0) return false;
  return idxs.every((idx, i) => {
    const [input, secondary, output] = idx as [number, number, number];
    if (i === 0 && input !== 0) return false;
    if (i !== 0 && input !== idxs.length + (i - 1)) return false;
    if (secondary !== -1 && secondary !== 1) return false;
    if (i === idxs.length - 1 && output !== 0) return false;
    if (i !== idxs.length - 1 && output !== -1) return false;
    return true;
  });
}

const hasWildcardOrFilters = (s: ContentSelector) => s.wildcard || s.includePatterns.length > 0 || s.excludePatterns.length > 0;

function dedupeSelectors(m: readonly ContentSelector[]): ContentSelector[] {
  const plain = m.filter((s) => !hasWildcardOrFilters(s));
  const out = [
    ...dedupePaths(plain.filter((s) => !s.followLinks).map((s) => s.path)).map((p) => selectorOf(p, false)),
    ...dedupePaths(plain.filter((s) => s.followLinks).map((s) => s.path)).map((p) => selectorOf(p, true)),
    ...m.filter(hasWildcardOrFilters),
  ];
  // sort.Slice is not stable; equal paths are rare enough not to matter here
  return out.sort((a, b) => compareBytes(a.path, b.path));
}

/**
 * The CacheMap of a solved vertex: sources use BuildKit's own keys where the source gives them,
 * else our content key under a `buildkit-ts.` prefix (BuildKit keys local sources by session,
 * so it never shares them; ours let our own caches of such graphs travel, and BuildKit
 * simply finds no match for them).
 */
export function vertexCacheMap(op: LoadedOp, keys: { readonly contentKey?: string; readonly remoteKeys?: readonly string[] }): BuildkitCacheMap | undefined {
  if (op.op.op !== "source") return buildkitCacheMap(op);
  if (keys.remoteKeys && keys.remoteKeys.length > 0) return buildkitCacheMap(op, keys.remoteKeys);
  if (keys.contentKey === undefined) return undefined;
  const scheme = (op.op.source?.identifier ?? "").split("://")[0];
  return buildkitCacheMap(op, [`buildkit-ts.${scheme}:${keys.contentKey}`]);
}

// Our Dockerfile conversion with build args, --target and .dockerignore excludes, against
// conversions BuildKit v0.11.6's own dockerfile2llb.Dockerfile2LLB made (the peer's command has
// no flags for build args or excludes). test/vectors/dockerfile2llb/cases/NAME holds the inputs
// (Dockerfile, dockerignore, opts.json: target, build args, target platform, context name);
// NAME.json beside it what Go made of them: the excludes its dockerignore.ReadAll read, the base
// images it resolved (a fixed table, by ref and platform), every op's digest
// and vertex name, the image config, and the Definition's Source (the Dockerfile's source map:
// its SourceInfo with the op digests of the local that loads it, and every op's lines).
// generator/main.go there is the Go program.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { convertDockerfile } from "../../../src/core/frontends/dockerfile/convert.ts";
import { parseDockerignore } from "../../../src/core/frontends/dockerfile/daemonless.ts";
import { parseDockerfileAttrs } from "../../../src/core/frontends/dockerfile/attrs.ts";
import { imageJson } from "../../../src/core/frontends/dockerfile/image-json.ts";
import { formatPlatform, LINUX_AMD64, parsePlatform } from "../../../src/core/llb/index.ts";
import { pb } from "../../../src/core/pb/index.ts";
import { sha256 } from "../../../src/core/digest.ts";
import { dockerfileSourceMap } from "../../../src/core/frontends/dockerfile/dockerfile-source.ts";

const UNIQUE = "buildkit-ts-vectors";

/** Our Definition's Source in the vectors' short form. */
function sourceOf(bytes: Uint8Array): GoConversion["source"] {
  const src = pb.Definition.decode(bytes).Source;
  const infos = (src?.infos ?? []).map((i) => ({
    filename: i.filename ?? "",
    data: new TextDecoder().decode(i.data ?? new Uint8Array()),
    ops: (i.definition?.def ?? []).map((op) => sha256(op) as string),
  }));
  const locations: GoConversion["source"]["locations"] = {};
  for (const [digest, locs] of Object.entries(src?.locations ?? {})) {
    locations[digest] = (locs.locations ?? []).map((l) => ({
      sourceIndex: l.sourceIndex ?? 0,
      ranges: (l.ranges ?? []).map((r) => [r.start?.line ?? 0, r.start?.character ?? 0, r.end?.line ?? 0, r.end?.character ?? 0] as [number, number, number, number]),
    }));
  }
  return { infos, locations };
}

const DIR = resolve(import.meta.dir, "../../vectors/dockerfile2llb");
const CASES = join(DIR, "cases");

interface GoConversion {
  excludes: string[];
  images: Record<string, { digest: string; config: string; resolveMode?: string }>;
  digests: string[];
  ops: { digest: string; name?: string; op: unknown }[];
  imageConfig: string;
  /** The Definition's Source: each SourceInfo's file and its definition's op digests; each op's locations. */
  source: {
    infos: { filename: string; data: string; ops: string[] }[];
    locations: Record<string, { sourceIndex: number; ranges: [number, number, number, number][] }[]>;
  };
}
interface CaseOpts {
  target?: string;
  buildArgs?: Record<string, string>;
  /** The target platform (Go: ConvertOpt.TargetPlatform). */
  platform?: string;
  contextLocalName?: string;
  /** Frontend attributes (add-hosts, shm-size, ulimit, force-network-mode, hostname, image-resolve-mode). */
  attrs?: Record<string, string>;
}

/** Our ops: digest, vertex name and the op, terminal left out. */
function opsOf(bytes: Uint8Array): { digest: string; name?: string; op: unknown }[] {
  const def = pb.Definition.decode(bytes);
  return def.def.slice(0, -1).map((raw) => {
    const digest = sha256(raw);
    return { digest, name: def.metadata[digest]?.description?.["llb.customname"], op: pb.Op.toObject(pb.Op.decode(raw), { longs: String }) };
  });
}

const names = readdirSync(CASES).filter((n) => existsSync(join(CASES, n, "Dockerfile"))).sort();

describe("Dockerfile conversion against Go's dockerfile2llb (build args, target, .dockerignore)", () => {
  test("there are cases, each with Go's conversion", () => {
    expect(names.length).toBeGreaterThanOrEqual(10);
    for (const n of names) expect(existsSync(join(DIR, `${n}.json`))).toBe(true);
  });

  for (const name of names) {
    test(name, async () => {
      const go = JSON.parse(readFileSync(join(DIR, `${name}.json`), "utf8")) as GoConversion;
      const text = readFileSync(join(CASES, name, "Dockerfile"), "utf8");
      const optsFile = join(CASES, name, "opts.json");
      const opts = (existsSync(optsFile) ? JSON.parse(readFileSync(optsFile, "utf8")) : {}) as CaseOpts;
      const ignoreFile = join(CASES, name, "dockerignore");
      const excludes = existsSync(ignoreFile) ? parseDockerignore(readFileSync(ignoreFile, "utf8")) : [];
      expect(excludes).toEqual(go.excludes);

      // The attributes as the frontend reads them, build args included (the hostname and cache
      // namespace ones are read from there).
      const buildArgAttrs = Object.fromEntries(Object.entries(opts.buildArgs ?? {}).map(([k, v]) => [`build-arg:${k}`, v]));
      const attrs = parseDockerfileAttrs({ ...opts.attrs, ...buildArgAttrs });
      const resolved: string[] = [];
      // The Dockerfile's source map as the builder makes it (no session: local.unique fixed as Go's generator fixes it).
      const sourceMap = dockerfileSourceMap({ localName: "dockerfile", filename: "Dockerfile", localUniqueId: UNIQUE }, new TextEncoder().encode(text));
      const ours = await convertDockerfile(
        text,
        {
          async resolveImageConfig(ref, platform, resolveMode) {
            const key = `${ref} ${formatPlatform(platform)}`;
            const img = go.images[key];
            if (!img) throw new Error(`resolved ${key}, which Go's conversion did not resolve`);
            expect(`${key} ${resolveMode}`).toBe(`${key} ${img.resolveMode ?? "default"}`);
            resolved.push(key);
            return { digest: img.digest, config: new TextEncoder().encode(img.config) };
          },
        },
        {
          target: opts.target,
          buildArgs: opts.buildArgs,
          excludes: go.excludes.length ? go.excludes : undefined,
          buildPlatform: LINUX_AMD64,
          targetPlatform: opts.platform ? parsePlatform(opts.platform) : undefined,
          contextLocalName: opts.contextLocalName,
          imageResolveMode: attrs.imageResolveMode,
          extraHosts: attrs.extraHosts,
          shmSize: attrs.shmSize,
          ulimits: attrs.ulimits,
          forceNetMode: attrs.forceNetMode,
          hostname: attrs.hostname,
          cacheIDNamespace: attrs.cacheIDNamespace,
          sourceMap,
        },
      );
      expect([...new Set(resolved)].sort()).toEqual(Object.keys(go.images).sort());
      const bytes = ours.state.marshal({ ...ours.marshalOptions, localUniqueId: UNIQUE });
      const a = opsOf(bytes);
      const sameDigests = JSON.stringify(a.map((o) => o.digest).sort()) === JSON.stringify(go.digests);
      if (!sameDigests) {
        const show = (ops: GoConversion["ops"]) => ops.map((o) => `${o.digest.slice(7, 19)} ${o.name ?? ""}\n    ${JSON.stringify(o.op)}`).join("\n");
        console.log(`--- ours\n${show(a)}\n--- dockerfile2llb\n${show(go.ops)}`);
      }
      expect(a.map((o) => o.digest).sort()).toEqual(go.digests);
      const goNames = new Map(go.ops.map((o) => [o.digest, o.name]));
      for (const o of a) expect(`${o.digest} ${o.name}`).toBe(`${o.digest} ${goNames.get(o.digest)}`);
      expect(imageJson(ours.image)).toBe(go.imageConfig);
      // The source map: the same file, the same definition for it, the same lines on the same ops.
      expect(sourceOf(bytes)).toEqual(go.source);
    });
  }
});

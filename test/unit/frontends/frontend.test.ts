// The dockerfile.v0 frontend over a fake FrontendContext: where it reads the Dockerfile and
// .dockerignore, BuildKit's attribute names, the metadata it returns, its errors.
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FRONTENDS, IMAGE_CONFIG_KEY, isForward, PLATFORMS_KEY, type FrontendContext, type FrontendResult } from "../../../src/core/frontends/frontend.ts";
import { goClean, parseDockerignore } from "../../../src/core/frontends/dockerfile/daemonless.ts";
import { goDuration, goHealth, goQuote } from "../../../src/core/frontends/dockerfile/go-format.ts";
import { createLocalFrontendContext } from "../../../src/core/frontends/local-context.ts";
import { pb } from "../../../src/core/pb/index.ts";
import { sha256 } from "../../../src/core/digest.ts";
import type { ProgressEvent, ProgressWarning } from "../../../src/core/progress/events.ts";
import type { RegistryClient } from "../../../src/core/registry/index.ts";
import { errorSources, formatSource, SourcedError } from "../../../src/core/error-sources.ts";
import type { ContentStore } from "../../../src/core/worker/content-store.ts";

/** The Dockerfile frontend's own result (these Dockerfiles name no other frontend). */
async function frontend(opts: Readonly<Record<string, string>>, ctx: FrontendContext, sig: AbortSignal): Promise<FrontendResult> {
  const r = await FRONTENDS["dockerfile.v0"]!(opts, ctx, sig);
  if (isForward(r)) throw new Error(`forwarded to ${r.forward.opts.source}`);
  return r;
}
const signal = new AbortController().signal;
const enc = (s: string) => new TextEncoder().encode(s);

function fakeContext(files: Record<string, string>): FrontendContext & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async readFile(local, path) {
      reads.push(`${local}:${path}`);
      const t = files[`${local}:${path}`];
      return t === undefined ? undefined : enc(t);
    },
    async resolveImageConfig(ref) {
      throw new Error(`unexpected resolve of ${ref}`);
    },
  };
}

/** The local source op's attrs of a Definition. */
function localAttrs(def: Uint8Array): Record<string, string> | undefined {
  const d = pb.Definition.decode(def);
  for (const raw of d.def) {
    const op = pb.Op.decode(raw);
    if (op.source?.identifier?.startsWith("local://")) return op.source.attrs ?? {};
  }
  return undefined;
}
const config = (r: { metadata: Readonly<Record<string, Uint8Array>> }) => JSON.parse(new TextDecoder().decode(r.metadata[IMAGE_CONFIG_KEY])) as { config: Record<string, unknown>; architecture: string };

describe("dockerfile.v0 frontend", () => {
  test("reads Dockerfile and the context's .dockerignore; excludes go on the context source", async () => {
    const ctx = fakeContext({ "dockerfile:Dockerfile": "FROM scratch\nCOPY . /\n", "context:.dockerignore": "secret\n*.log\n" });
    const r = await frontend({}, ctx, signal);
    expect(JSON.parse(localAttrs(r.definition)?.["local.excludepatterns"] ?? "null")).toEqual(["secret", "*.log"]);
    expect(JSON.parse(new TextDecoder().decode(r.metadata[PLATFORMS_KEY])).Platforms[0].ID).toMatch(/^linux\//);
  });

  test("FILENAME.dockerignore beside the Dockerfile wins; filename, contextkey and dockerfilekey are honoured", async () => {
    const ctx = fakeContext({ "df:sub/App.Dockerfile": "FROM scratch\nCOPY . /\n", "df:sub/App.Dockerfile.dockerignore": "mine\n", "ctx:.dockerignore": "theirs\n" });
    const r = await frontend({ filename: "sub/App.Dockerfile", dockerfilekey: "df", contextkey: "ctx" }, ctx, signal);
    const attrs = localAttrs(r.definition)!;
    expect(JSON.parse(attrs["local.excludepatterns"]!)).toEqual(["mine"]);
    expect(attrs["local.sharedkeyhint"]).toBe("ctx");
  });

  test("a lowercase dockerfile is found; none at all is NotFound", async () => {
    const r = await frontend({}, fakeContext({ "dockerfile:dockerfile": "FROM scratch\nENV A=1\n" }), signal);
    expect(config(r).config.Env).toContain("A=1");
    await expect(frontend({}, fakeContext({}), signal)).rejects.toThrow('reading dockerfile: Dockerfile not found in local "dockerfile"');
  });

  test("target, build-arg:, label: and platform", async () => {
    const text = "FROM scratch AS a\nARG X=default\nENV X=$X\nFROM scratch AS b\nENV B=1\n";
    const r = await frontend({ target: "a", "build-arg:X": "given", "label:org.x": "y", platform: "linux/arm64" }, fakeContext({ "dockerfile:Dockerfile": text }), signal);
    const c = config(r);
    expect(c.config.Env).toContain("X=given");
    expect(c.config.Env).not.toContain("B=1");
    expect(c.config.Labels).toEqual({ "org.x": "y" });
    expect(c.architecture).toBe("arm64");
  });

  test("errors name the file and line; unsupported attributes are refused", async () => {
    const ctx = fakeContext({ "dockerfile:Custom": "FROM scratch\nNOPE x\n" });
    const err = await frontend({ filename: "Custom" }, ctx, signal).catch((e: unknown) => e);
    // BuildKit's message, the lines as the error's source (build.go's wrapSource).
    expect(err).toBeInstanceOf(SourcedError);
    expect((err as Error).message).toBe("dockerfile parse error on line 2: unknown instruction: NOPE (did you mean COPY?)");
    const [source, ...more] = errorSources(err);
    expect(more).toEqual([]);
    expect(source!.ranges).toEqual([{ start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }]);
    expect(source!.info.filename).toBe("Custom");
    expect(new TextDecoder().decode(source!.info.data)).toBe("FROM scratch\nNOPE x\n");
    const local = pb.Definition.decode(source!.info.definition!);
    const op = pb.Op.decode(local.def[0]!);
    expect(op.source?.identifier).toBe("local://dockerfile");
    expect(op.source?.attrs?.["local.followpaths"]).toBe('["Custom","Custom.dockerignore"]');
    expect(op.source?.attrs?.["local.differ"]).toBe("none");
    expect(formatSource(source!)).toContain(" >>> NOPE x");
    await expect(frontend({ "cgroup-parent": "/build" }, ctx, signal)).rejects.toThrow("attribute cgroup-parent is not supported");
    await expect(frontend({ "add-hosts": "a=1.2.3" }, ctx, signal)).rejects.toThrow("attribute add-hosts=\"a=1.2.3\": failed to parse additional hosts: failed to parse IP 1.2.3");
    await expect(frontend({ platform: "linux/amd64,linux/arm64", "multi-platform": "false" }, ctx, signal)).rejects.toThrow("returning multiple target platforms is not allowed");
    await expect(frontend({ "multi-platform": "maybe" }, ctx, signal)).rejects.toThrow("invalid boolean value maybe");
  });

  test("the definition carries the Dockerfile as its source map, and the lines of its COPY and WORKDIR ops", async () => {
    const text = "FROM scratch\nCOPY a \\\n  /a\nENV X=1\nWORKDIR /w\n";
    const r = await frontend({}, fakeContext({ "dockerfile:Dockerfile": text }), signal);
    const def = pb.Definition.decode(r.definition);
    const [info, ...others] = def.Source!.infos!;
    expect(others).toEqual([]);
    expect(info!.filename).toBe("Dockerfile");
    expect(new TextDecoder().decode(info!.data!)).toBe(text);
    const local = pb.Op.decode(info!.definition!.def![0]!);
    expect(local.source?.attrs?.["local.followpaths"]).toBe('["Dockerfile","Dockerfile.dockerignore","dockerfile"]');
    const lines: Record<string, number[][]> = {};
    for (const raw of def.def.slice(0, -1)) {
      const digest = sha256(raw);
      const name = def.metadata[digest]?.description?.["llb.customname"] ?? digest;
      lines[name] = (def.Source!.locations![digest]?.locations ?? []).map((l) => (l.ranges ?? []).map((rg) => rg.start!.line ?? 0));
    }
    expect(lines).toEqual({ "[internal] load build context": [], "[1/2] COPY a   /a": [[2, 3]], "[2/2] WORKDIR /w": [[5]] });
  });

  test("a parser warning goes into progress on the Dockerfile's load vertex, with the Dockerfile, its line, detail and URL", async () => {
    const text = "FROM scratch\nRUN a \\\n\n  b\n";
    const events: ProgressEvent[] = [];
    const ctx = { ...fakeContext({ "dockerfile:Dockerfile": text }), progress: { write: (e: ProgressEvent) => void events.push(e), close: async () => {} } };
    const r = await frontend({ platform: "linux/amd64,linux/arm64" }, ctx, signal);
    expect(r.platforms?.length).toBe(2);
    const warnings = events.filter((e) => e.type === "warning");
    // Once, not once per platform (the builder warns from the first conversion only).
    expect(warnings.length).toBe(1);
    const w = warnings[0]!;
    const load = events.find((e) => e.type === "vertex" && e.name === "[internal] load build definition from Dockerfile");
    expect(load?.type === "vertex" && load.digest).toBe(w.vertex);
    expect(w).toMatchObject({ level: 1, short: "Empty continuation line found in: RUN a   b", url: "https://github.com/moby/moby/pull/33719", detail: ["Empty continuation lines will become errors in a future release"] });
    expect(w.source?.ranges).toEqual([{ start: { line: 4, character: 0 }, end: { line: 4, character: 0 } }]);
    expect(w.source?.info.filename).toBe("Dockerfile");
    expect(new TextDecoder().decode(w.source!.info.data)).toBe(text);
    // The vertex is the head of the definition in the source info (build.go's defVtx).
    const def = pb.Definition.decode(w.source!.info.definition!);
    expect(sha256(def.def[0]!)).toBe(w.vertex);
    expect(pb.Op.decode(def.def.at(-1)!).inputs[0]!.digest).toBe(w.vertex);
  });

  test("a gateway-like context's warn gets the warning; none when the Dockerfile has none", async () => {
    const got: ProgressWarning[] = [];
    const warn = async (w: ProgressWarning) => void got.push(w);
    await frontend({}, { ...fakeContext({ "dockerfile:Dockerfile": "FROM scratch\nRUN a \\\n\n  b\n" }), warn }, signal);
    expect(got.map((w) => w.short)).toEqual(["Empty continuation line found in: RUN a   b"]);
    await frontend({}, { ...fakeContext({ "dockerfile:Dockerfile": "FROM scratch\nRUN a\n" }), warn }, signal);
    expect(got.length).toBe(1);
  });

  test("several platforms: a definition and a config per platform, steps named after it, refs.platforms listing them", async () => {
    const ctx = fakeContext({ "dockerfile:Dockerfile": "FROM scratch\nCOPY a /a\n" });
    const r = await frontend({ platform: "linux/amd64,linux/arm64/v8" }, ctx, signal);
    expect(r.platforms?.map((p) => p.id)).toEqual(["linux/amd64", "linux/arm64"]);
    expect(JSON.parse(new TextDecoder().decode(r.metadata["refs.platforms"]))).toEqual({
      Platforms: [
        { ID: "linux/amd64", Platform: { architecture: "amd64", os: "linux" } },
        { ID: "linux/arm64", Platform: { architecture: "arm64", os: "linux" } },
      ],
    });
    const arm = JSON.parse(new TextDecoder().decode(r.metadata["containerimage.config/linux/arm64"])) as { architecture: string };
    expect(arm.architecture).toBe("arm64");
    expect(r.metadata["containerimage.config"]).toBeUndefined();
    const names = new TextDecoder().decode(r.platforms![1]!.definition);
    expect(names).toContain("[linux/arm64 1/1] COPY a /a");
    // multi-platform=true makes even one platform a result per platform.
    expect((await frontend({ "build-arg:BUILDKIT_MULTI_PLATFORM": "1" }, ctx, signal)).platforms).toHaveLength(1);
  });
});

describe("helpers", () => {
  test(".dockerignore patterns are cleaned as Go's ignorefile reader does", () => {
    expect(parseDockerignore("\uFEFF# c\n /a/b/../c/ \n!./keep//x\n\n.\n")).toEqual(["a/c", "!keep/x", "."]);
    expect(goClean("../a/./b/..")).toBe("../a");
    expect(goClean("/../x")).toBe("/x");
  });

  test("Go's %q and Duration.String", () => {
    expect(goQuote('a"b\\\n')).toBe('"a\\"b\\\\\\n"');
    expect([0, 500e6, 1.5e9, 90e9, 3600e9, 1500].map(goDuration)).toEqual(["0s", "500ms", "1.5s", "1m30s", "1h0m0s", "1.5µs"]);
    expect(goHealth({ Test: ["NONE"] })).toBe('&{["NONE"] "0s" "0s" "0s" \'\\x00\'}');
  });
});

describe("local frontend context", () => {
  test("reads files of a --local dir; absent files and locals are undefined; no way out of the dir", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bk-fe-"));
    try {
      mkdirSync(join(dir, "ctx"));
      writeFileSync(join(dir, "ctx/Dockerfile"), "FROM scratch\n");
      writeFileSync(join(dir, "outside"), "secret");
      symlinkSync("../outside", join(dir, "ctx/link"));
      const ctx = createLocalFrontendContext({ dirs: new Map([["context", join(dir, "ctx")]]), registry: async () => ({}) as RegistryClient, content: {} as ContentStore, root: dir });
      expect(new TextDecoder().decode(await ctx.readFile("context", "Dockerfile", signal))).toBe("FROM scratch\n");
      expect(await ctx.readFile("context", "missing", signal)).toBeUndefined();
      expect(await ctx.readFile("other", "Dockerfile", signal)).toBeUndefined();
      expect(new TextDecoder().decode(await ctx.readFile("context", "../../Dockerfile", signal))).toBe("FROM scratch\n");
      await expect(ctx.readFile("context", "link", signal)).rejects.toThrow("leads outside the directory");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

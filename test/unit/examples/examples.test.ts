// Every example and target marshals to a valid definition whose structure is what the
// example says; `buildkit graph NAME` prints the same bytes as running the example file.
import { describe, expect, test } from "bun:test";
import { loadDefinition, type LoadedDefinition } from "../../../src/core/llb/definition.ts";
import { EXAMPLES, exampleDefinition, findExample } from "../../../examples/index.ts";
import { frontendImageOutput } from "../../../examples/frontend-image.ts";
import { BUN, CLI, REPO_ROOT } from "../../paths.ts";

const TARGETS = ["standalone", "containerd"] as const;

function load(name: string, args: string[]): LoadedDefinition {
  const out = exampleDefinition(findExample(name)!, [...args, "--platform", "linux/amd64"]);
  if (out === "help") throw new Error("unexpected help");
  return loadDefinition(out);
}

function summary(def: LoadedDefinition) {
  const ops = [...def.ops.values()].filter((o) => o !== def.terminal).map((o) => o.op);
  const sources = ops.flatMap((o) => (o.source?.identifier ? [o.source.identifier] : []));
  const execs = ops.filter((o) => o.exec).map((o) => o.exec!.meta!.args!.join(" "));
  return {
    total: ops.length,
    images: sources.filter((s) => s.startsWith("docker-image://")),
    gits: sources.filter((s) => s.startsWith("git://")),
    locals: sources.filter((s) => s.startsWith("local://")),
    execs,
    files: ops.filter((o) => o.file).length,
  };
}

describe("examples", () => {
  test("graph --list names the five buildkit examples, the offline demo, the daemon's image and the frontend's", () => {
    expect(EXAMPLES.map((e) => e.name)).toEqual(["buildkit0", "buildkit1", "buildkit2", "buildkit3", "buildkit4", "offline", "serve-image", "frontend-image"]);
  });

  test("frontend-image needs no network: glibc from the host and the binary", () => {
    const s = summary(load("frontend-image", []));
    expect(s.images).toEqual([]);
    expect(s.locals.sort()).toEqual(["local://bin", "local://host"]);
    expect(frontendImageOutput("r/f:dev")).toStartWith("type=image,name=r/f:dev,push=true,\"containerimage.config={\"\"config\"\":{\"\"Entrypoint\"\":[\"\"/usr/local/bin/buildkit\"\",\"\"frontend\"\"]");
  });

  test("serve-image needs no network: the host's files and the binary", () => {
    const s = summary(load("serve-image", []));
    expect(s.images).toEqual([]);
    expect(s.gits).toEqual([]);
    expect(s.locals.sort()).toEqual(["local://bin", "local://host"]);
  });

  test("offline needs no network: only local sources", () => {
    const s = summary(load("offline", []));
    expect(s.images).toEqual([]);
    expect(s.gits).toEqual([]);
    expect(s.locals.sort()).toEqual(["local://rootfs", "local://src"]);
    expect(s.execs.length).toBe(4);
  });

  for (const target of TARGETS) {
    const components = target === "containerd" ? 3 : 2;

    test(`buildkit0 --target ${target}: exec steps only, each stage clones and builds`, () => {
      const s = summary(load("buildkit0", ["--target", target]));
      expect(s.gits).toEqual([]);
      expect(s.locals).toEqual([]);
      expect(s.files).toBe(0);
      expect(s.execs.filter((e) => e.startsWith("git clone")).length).toBe(components);
      expect(s.execs.filter((e) => e.startsWith("cp -a")).length).toBe(components);
      expect(s.execs.some((e) => e.includes("containerd"))).toBe(target === "containerd");
      // images: runtime, go, node; go build base deduplicated between runc and containerd
      expect(new Set(s.images).size).toBe(3);
      expect(s.total).toBe(3 + 1 + 3 * components + components);
    });

    test(`buildkit1 --target ${target}: separate clone stages feeding build stages`, () => {
      const def = load("buildkit1", ["--target", target]);
      const s = summary(def);
      expect(s.gits).toEqual([]);
      const clones = s.execs.filter((e) => e.includes("git clone"));
      expect(clones.length).toBe(components);
      // A clone stage writes only into its own /out mount; the build stages mount it.
      const builds = [...def.ops.values()].filter((o) => o.op.exec && (o.op.exec.mounts ?? []).some((m) => m.mountType === 3));
      expect(builds.length).toBe(components);
    });

    test(`buildkit2 --target ${target}: git sources, no clone steps`, () => {
      const s = summary(load("buildkit2", ["--target", target]));
      expect(s.gits.length).toBe(components);
      expect(s.gits).toContain("git://github.com/opencontainers/runc.git#v1.1.12");
      expect(s.execs.some((e) => e.includes("git clone"))).toBe(false);
      expect(s.locals).toEqual([]);
    });

    test(`buildkit3 --target ${target} --runc=local: runc from local("runc-src")`, () => {
      const s = summary(load("buildkit3", ["--target", target, "--runc=local"]));
      expect(s.locals).toEqual(["local://runc-src"]);
      expect(s.gits.length).toBe(components - 1);
      expect(s.gits.some((g) => g.includes("runc"))).toBe(false);
    });
  }

  for (const target of TARGETS) {
    test(`buildkit4 --target ${target}: one merge of the runtime image and a layer per component`, () => {
      const def = load("buildkit4", ["--target", target]);
      const ops = [...def.ops.values()].map((o) => o.op);
      const merges = ops.filter((o) => o.merge);
      expect(merges.length).toBe(1);
      const components = target === "containerd" ? 3 : 2;
      expect(merges[0]!.merge!.inputs!.length).toBe(1 + components);
      expect(merges[0]!.platform ?? undefined).toBeUndefined();
      expect(ops.filter((o) => o.file).every((o) => o.file!.actions!.every((a) => a.copy?.dest === "/usr/local/bin/" && a.copy?.createDestPath))).toBe(true);
    });
  }

  test("buildkit3 with every component local has no git sources", () => {
    const s = summary(load("buildkit3", ["--buildkit=local", "--runc=local", "--containerd=local"]));
    expect(s.locals.sort()).toEqual(["local://buildkit-src", "local://containerd-src", "local://runc-src"]);
    expect(s.gits).toEqual([]);
  });

  test("versions and base images come from flags", () => {
    const s = summary(load("buildkit2", ["--runc", "v1.2.0", "--go-image", "golang:1.23", "--target", "standalone"]));
    expect(s.gits).toContain("git://github.com/opencontainers/runc.git#v1.2.0");
    expect(s.images).toContain("docker-image://docker.io/library/golang:1.23");
  });

  test.each([
    [["--target", "x"], `--target must be standalone or containerd, not "x"`],
    [["--runc=local"], "--runc=local needs local sources: use buildkit3"],
    [["--nope"], "Unknown option '--nope'"],
  ])("buildkit2 rejects %p", (args, message) => {
    expect(() => exampleDefinition(findExample("buildkit2")!, args)).toThrow(message);
  });

  for (const e of ["buildkit0", "buildkit1", "buildkit2", "buildkit3", "buildkit4"]) {
    test(`buildkit graph ${e} prints what bun examples/${e}.ts prints`, async () => {
      const args = ["--target", "standalone", ...(e === "buildkit3" ? ["--runc=local"] : [])];
      const run = async (cmd: string[]) => {
        const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", cwd: REPO_ROOT });
        const out = new Uint8Array(await new Response(p.stdout).arrayBuffer());
        expect(await p.exited).toBe(0);
        return Buffer.from(out);
      };
      const [direct, bundled] = await Promise.all([run([BUN, `${REPO_ROOT}/examples/${e}.ts`, ...args]), run([BUN, CLI, "graph", e, ...args])]);
      expect(direct.length).toBeGreaterThan(500);
      expect(bundled.equals(direct)).toBe(true);
      expect(loadDefinition(new Uint8Array(direct)).ops.size).toBeGreaterThan(5);
    });
  }
});

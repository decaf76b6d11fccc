// `buildkit build` end to end on the standalone worker: real runc, overlayfs, a busybox rootfs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copy, LINUX_AMD64, local, merge, mkdir, mkfile, rm, scratch } from "../../../src/core/llb/index.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BuildHarness, waitForOutput } from "./harness.ts";

const run = requireIntegration("build integration tests", { runc: true, busybox: true });
let h: BuildHarness;
beforeAll(() => {
  if (run) h = new BuildHarness();
});
afterAll(() => h?.cleanup());

const sh = (script: string) => ({ args: ["sh", "-c", script] });

describe.skipIf(!run)("build", () => {
  test("chained exec steps export to a local directory, then rebuild fully cached", async () => {
    const out = h.temp("out");
    const s = h
      .base()
      .run(sh("echo one > /one"))
      .root()
      .run(sh("cat /one > /two; echo two >> /two"))
      .root();
    const def = scratch().file(copy(s, "/two", "/result"));
    const first = await h.build(def, ["--output", `type=local,dest=${out}`]);
    expect(first.code).toBe(0);
    expect(readFileSync(join(out, "result"), "utf8")).toBe("one\ntwo\n");
    const second = await h.build(def, ["--output", `type=local,dest=${out}`]);
    expect(second.code).toBe(0);
    // Every step is CACHED and nothing ran.
    const steps = second.trace().filter((e) => e.type === "vertex" && e.completed && !String(e.name).startsWith("exporting"));
    expect(steps.length).toBe(4);
    expect(steps.every((e) => e.cached === true)).toBe(true);
    expect(second.stderr).toContain("CACHED");
  });

  test("source-date-epoch dates every entry a local or tar export writes", async () => {
    const def = scratch().file(mkdir("/d", 0o755)).file(mkfile("/d/f", 0o644, "x")).file(mkfile("/g", 0o600, "y"));
    const out = h.temp("sde-local");
    expect((await h.build(def, ["--output", `type=local,dest=${out},source-date-epoch=1000000000`])).code).toBe(0);
    for (const p of ["d", "d/f", "g"]) expect(statSync(join(out, p)).mtimeMs).toBe(1000000000 * 1000);
    const tar = join(h.temp("sde-tar"), "out.tar");
    expect((await h.build(def, ["--output", `type=tar,dest=${tar},source-date-epoch=1000000000`])).code).toBe(0);
    const listing = Bun.spawnSync(["tar", "--full-time", "-tvf", tar]).stdout.toString().trim().split("\n");
    expect(listing.length).toBe(3);
    for (const line of listing) expect(line).toContain("2001-09-09 01:46:40");
    const bad = await h.build(def, ["--output", `type=local,dest=${out},source-date-epoch=soon`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split("\n").pop()).toBe('error: output type=local: source-date-epoch must be an integer, not "soon"');
  });

  test("--quiet prints nothing on success; --debug adds debug lines", async () => {
    const def = h.base().run(sh("echo quiet-step")).root();
    const quiet = await h.build(def, ["-q"]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe("");
    const debug = await h.build(def, ["--quiet", "--debug"]);
    expect(debug.code).toBe(0);
    expect(debug.stderr).toContain(`state directory ${h.root}`);
    expect(debug.stderr).toContain("trace: ");
  });

  test("--no-cache runs every step again", async () => {
    const def = h.base().run(sh("date +%s%N > /stamp")).root();
    expect((await h.build(def)).code).toBe(0);
    const again = await h.build(def, ["--no-cache"]);
    expect(again.code).toBe(0);
    const exec = again.trace().filter((e) => e.type === "vertex" && e.completed && String(e.name).includes("date"));
    expect(exec[0]?.cached).toBeUndefined();
  });

  test("independent steps run at the same time", async () => {
    const steps = Array.from({ length: 4 }, (_, i) => h.base().run(sh(`sleep 1; echo ${i} > /s${i}`)).root());
    const def = merge(steps.map((s, i) => scratch().file(copy(s, `/s${i}`, `/s${i}`))));
    const r = await h.build(def, ["--no-cache"]);
    expect(r.code).toBe(0);
    const spans = r
      .trace()
      .filter((e) => e.type === "vertex" && e.completed && String(e.name).startsWith("sh -c sleep"))
      .map((e) => [Number(e.started), Number(e.completed)] as const);
    expect(spans.length).toBe(4);
    // All four were running at one moment: the latest start is before the earliest end.
    expect(Math.max(...spans.map((s) => s[0]))).toBeLessThan(Math.min(...spans.map((s) => s[1])));
  });

  test("a local source's cache key is its content", async () => {
    const src = h.temp("ctx");
    writeFileSync(join(src, "a.txt"), "hello\n");
    const out = h.temp("out");
    const def = h
      .base()
      .run({ ...sh("wc -c < /ctx/a.txt > /out/size"), mounts: [{ dest: "/ctx", source: local("ctx"), readonly: true }, { dest: "/out", source: scratch() }] })
      .getMount("/out")!;
    const build = () => h.build(def, ["--output", `type=local,dest=${out}`], { locals: { ctx: src } });
    expect((await build()).code).toBe(0);
    expect(readFileSync(join(out, "size"), "utf8").trim()).toBe("6");
    // Touched but unchanged: still cached.
    writeFileSync(join(src, "a.txt"), "hello\n");
    const cached = await build();
    expect(cached.trace().filter((e) => e.type === "vertex" && e.completed && String(e.name).startsWith("sh -c wc"))[0]?.cached).toBe(true);
    writeFileSync(join(src, "a.txt"), "hello world\n");
    const changed = await build();
    expect(changed.trace().filter((e) => e.type === "vertex" && e.completed && String(e.name).startsWith("sh -c wc"))[0]?.cached).toBeUndefined();
    expect(readFileSync(join(out, "size"), "utf8").trim()).toBe("12");
  });

  test("mounts: read-only input with selector, writable output, tmpfs, cache, secret", async () => {
    const src = h.temp("ctx");
    mkdirSync(join(src, "sub"));
    writeFileSync(join(src, "sub/file"), "from sub\n");
    const secretFile = join(h.temp("secret"), "token");
    writeFileSync(secretFile, "s3cr3t-value\n");
    const out = h.temp("out");
    const step = (n: number) =>
      h
        .base()
        .run({
          ...sh(
            [
              "cat /in/file > /out/copied",
              "touch /in/x 2>/dev/null && echo rw > /out/in-writable || echo ro > /out/in-writable",
              "mount | grep -q ' /tmpfs type tmpfs' && echo tmpfs > /out/tmpfs",
              `echo ${n} >> /cache/runs; cat /cache/runs > /out/cache-runs`,
              "cat /run/secrets/token > /dev/null && stat -c %a /run/secrets/token > /out/secret-mode",
              "echo secret is $(cat /run/secrets/token)",
            ].join("; "),
          ),
          mounts: [
            { dest: "/in", source: local("ctx"), readonly: true, selector: "/sub" },
            { dest: "/out", source: scratch() },
            { dest: "/tmpfs", source: scratch(), tmpfs: { size: 1 << 20 } },
            { dest: "/cache", source: scratch(), cache: { id: "it-cache" } },
          ],
          secrets: [{ id: "token", dest: "/run/secrets/token" }],
        })
        .getMount("/out")!;
    const r1 = await h.build(step(1), ["--output", `type=local,dest=${out}`, "--secret", `id=token,src=${secretFile}`], { locals: { ctx: src } });
    if (r1.code !== 0) console.log(r1.stderr);
    expect(r1.code).toBe(0);
    expect(readFileSync(join(out, "copied"), "utf8")).toBe("from sub\n");
    expect(readFileSync(join(out, "in-writable"), "utf8")).toBe("ro\n");
    expect(readFileSync(join(out, "tmpfs"), "utf8")).toBe("tmpfs\n");
    expect(readFileSync(join(out, "secret-mode"), "utf8")).toBe("400\n");
    // The secret never reaches the display or the trace, and is not in the result.
    expect(r1.stderr).not.toContain("s3cr3t-value");
    expect(readFileSync(r1.tracePath, "utf8")).not.toContain("s3cr3t-value");
    expect(r1.stderr).toContain("secret is ****");
    expect(existsSync(join(out, "run"))).toBe(false);
    // The cache mount persists into the next (different) step.
    const r2 = await h.build(step(2), ["--output", `type=local,dest=${out}`, "--secret", `id=token,src=${secretFile}`], { locals: { ctx: src } });
    expect(r2.code).toBe(0);
    expect(readFileSync(join(out, "cache-runs"), "utf8")).toBe("1\n2\n");
  });

  test("ssh agent socket is mounted", async () => {
    const dir = h.temp("ssh");
    const socket = join(dir, "agent.sock");
    const server = Bun.listen({ unix: socket, socket: { data() {} } });
    try {
      const out = h.temp("out");
      const def = h
        .base()
        .run({ ...sh("test -S $SSH_AUTH_SOCK && echo socket > /out/ssh"), ssh: [{}], mounts: [{ dest: "/out", source: scratch() }] })
        .getMount("/out")!;
      const r = await h.build(def, ["--ssh", `default=${socket}`, "--output", `type=local,dest=${out}`]);
      if (r.code !== 0) console.log(r.stderr);
      expect(r.code).toBe(0);
      expect(readFileSync(join(out, "ssh"), "utf8")).toBe("socket\n");
    } finally {
      server.stop(true);
    }
  });

  test("file ops stay inside their root; merge and diff", async () => {
    const src = h.temp("ctx");
    writeFileSync(join(src, "data"), "data\n");
    symlinkSync("/etc/passwd", join(src, "escape"));
    symlinkSync("../../../../../etc", join(src, "up"));
    const out = h.temp("out");
    const files = scratch()
      .file(mkdir("/d", 0o755).mkfile("/d/f", 0o600, "f\n").mkfile("/gone", 0o644, "x").rm("/gone"))
      .file(copy(local("ctx"), "/escape", "/copied-link"));
    const base = h.base().run(sh("echo base > /base")).root();
    const upper = base.run(sh("echo upper > /upper")).root();
    const def = merge([files, (await import("../../../src/core/llb/index.ts")).diff(base, upper)]);
    const r = await h.build(def, ["--output", `type=local,dest=${out}`], { locals: { ctx: src } });
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["copied-link", "d", "upper"]);
    expect(readFileSync(join(out, "d/f"), "utf8")).toBe("f\n");
    expect(readFileSync(join(out, "upper"), "utf8")).toBe("upper\n");
    // The link is copied as a link, not followed out of the source.
    expect(Bun.spawnSync(["readlink", join(out, "copied-link")]).stdout.toString().trim()).toBe("/etc/passwd");
    // A relative link climbing out of the source stays inside it: there is no etc/passwd there.
    const escape = await h.build(scratch().file(copy(local("ctx"), "/up/passwd", "/via-up")), [], { locals: { ctx: src } });
    expect(escape.code).toBe(1);
    expect(escape.stderr.trim().split("\n").at(-1)).toBe("error: copy /up/passwd /via-up: copy /up/passwd: no such file or directory");
  });

  test("merge applies a diff's deletions, replaces a file by a dir and back, never writes through a symlink; a diff keeps a deletion's parent", async () => {
    const { diff } = await import("../../../src/core/llb/index.ts");
    const hostFile = join(h.temp("host"), "target");
    writeFileSync(hostFile, "host\n");
    const src = h.temp("ctx");
    symlinkSync(hostFile, join(src, "link"));
    const base = h.base().run(sh("mkdir -p /w/d /w/e && echo a > /w/a && echo b > /w/d/b && echo e > /w/e/e")).root();
    const ran = base.run(sh("rm /w/a && rm -r /w/d && rm -r /w/e && mkdir /w/e && echo fresh > /w/e/fresh")).root();
    const other = scratch().file(mkdir("/w/d", 0o755, { parents: true }).mkfile("/w/a", 0o644, "other a\n").mkfile("/w/d/x", 0o644, "x\n").mkdir("/w/e", 0o755).mkfile("/w/e/stale", 0o644, "s\n").mkfile("/w/keep", 0o644, "k\n"));
    const out = h.temp("merged");
    const r = await h.build(merge([other, diff(base, ran)]), ["--output", `type=local,dest=${out}`]);
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    // Deleted paths go, the remade /w/e is merged (its old content was deleted explicitly, not made opaque).
    expect(readdirSync(join(out, "w")).sort()).toEqual(["e", "keep"]);
    expect(readdirSync(join(out, "w/e")).sort()).toEqual(["fresh", "stale"]);
    // The diff on its own: what ran added, and the parent of each deletion (no placeholder shows).
    const alone = h.temp("alone");
    expect((await h.build(diff(base, ran), ["--output", `type=local,dest=${alone}`])).code).toBe(0);
    expect(readdirSync(alone)).toEqual(["w"]);
    expect(readdirSync(join(alone, "w"))).toEqual(["e"]);
    expect(readdirSync(join(alone, "w/e"))).toEqual(["fresh"]);

    const a = scratch().file(mkdir("/x", 0o755).mkfile("/x/f", 0o644, "f\n").mkfile("/y", 0o644, "y\n")).file(copy(local("ctx"), "/link", "/l"));
    const b = scratch().file(mkfile("/x", 0o644, "x is a file\n").mkdir("/y", 0o700).mkfile("/y/g", 0o644, "g\n").mkfile("/l", 0o644, "not through the link\n"));
    const over = h.temp("over");
    const m = await h.build(merge([a, b]), ["--output", `type=local,dest=${over}`], { locals: { ctx: src } });
    if (m.code !== 0) console.log(m.stderr);
    expect(m.code).toBe(0);
    expect(readFileSync(join(over, "x"), "utf8")).toBe("x is a file\n");
    expect(readdirSync(join(over, "y"))).toEqual(["g"]);
    expect(readFileSync(join(over, "l"), "utf8")).toBe("not through the link\n");
    expect(readFileSync(hostFile, "utf8")).toBe("host\n");
    const back = h.temp("back");
    expect((await h.build(merge([b, a]), ["--output", `type=local,dest=${back}`], { locals: { ctx: src } })).code).toBe(0);
    expect(readdirSync(join(back, "x"))).toEqual(["f"]);
    expect(readFileSync(join(back, "y"), "utf8")).toBe("y\n");
  });

  test("ADD-style copy unpacks a local archive; a plain file is copied", async () => {
    const src = h.temp("ctx");
    mkdirSync(join(src, "tree/sub"), { recursive: true });
    writeFileSync(join(src, "tree/sub/f"), "packed\n");
    expect(Bun.spawnSync(["tar", "-czf", join(src, "app.tar.gz"), "-C", join(src, "tree"), "sub"]).exitCode).toBe(0);
    writeFileSync(join(src, "notes.txt"), "plain\n");
    const out = h.temp("out");
    const add = (from: string) => copy(local("ctx"), from, "/app/", { attemptUnpack: true, createDestPath: true });
    const r = await h.build(scratch().file(add("/app.tar.gz")).file(add("/notes.txt")), ["--output", `type=local,dest=${out}`], { locals: { ctx: src } });
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    expect(readdirSync(join(out, "app")).sort()).toEqual(["notes.txt", "sub"]);
    expect(readFileSync(join(out, "app/sub/f"), "utf8")).toBe("packed\n");
  });

  test("proxy settings reach the process as environment variables, both cases", async () => {
    const out = h.temp("out");
    const step = h.base().run({ ...sh("env | grep -i _proxy= | sort > /out/env"), proxyEnv: { httpProxy: "http://proxy.test:3128", noProxy: "localhost" }, mounts: [{ dest: "/out", source: scratch() }] });
    const r = await h.build(step.getMount("/out")!, ["--output", `type=local,dest=${out}`]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "env"), "utf8")).toBe("HTTP_PROXY=http://proxy.test:3128\nNO_PROXY=localhost\nhttp_proxy=http://proxy.test:3128\nno_proxy=localhost\n");
  });

  test("default (sandbox) network reaches the host's network as BuildKit's without CNI; none does not", async () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("from the host\n") });
    try {
      const out = h.temp("out");
      const fetchStep = (network?: "none") =>
        h.base().run({ ...sh(`printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 127.0.0.1 ${server.port} > /out/got 2>/dev/null; grep -q 'from the host' /out/got && echo reached > /out/got || echo failed > /out/got`), ...(network ? { network } : {}), mounts: [{ dest: "/out", source: scratch() }] }).getMount("/out")!;
      expect((await h.build(fetchStep(), ["--output", `type=local,dest=${out}`])).code).toBe(0);
      expect(readFileSync(join(out, "got"), "utf8")).toBe("reached\n");
      expect((await h.build(fetchStep("none"), ["--output", `type=local,dest=${out}`])).code).toBe(0);
      expect(readFileSync(join(out, "got"), "utf8")).toBe("failed\n");
    } finally {
      server.stop(true);
    }
  });

  test("tar exporter, to a file and to stdout", async () => {
    const def = scratch().file(mkfile("/hello", 0o644, "hi\n"));
    const file = join(h.temp("tar"), "out.tar");
    expect((await h.build(def, ["--output", `type=tar,dest=${file}`])).code).toBe(0);
    expect(Bun.spawnSync(["tar", "-xOf", file, "hello"]).stdout.toString()).toBe("hi\n");
    const toStdout = await h.build(def, ["--output", "type=tar,dest=-"]);
    expect(toStdout.code).toBe(0);
    const copyFile = join(h.temp("tar"), "stdout.tar");
    writeFileSync(copyFile, toStdout.stdout);
    expect(Bun.spawnSync(["tar", "-xOf", copyFile, "hello"]).stdout.toString()).toBe("hi\n");
  });

  test("a failing step: exit 1, names the step, its exit code and its last output", async () => {
    const def = h.base().run(sh("echo about to fail; exit 3")).root();
    const r = await h.build(def);
    expect(r.code).toBe(1);
    const last = r.stderr.trim().split("\n").at(-1);
    expect(last).toBe('error: sh -c echo about to fail; exit 3: process "sh -c echo about to fail; exit 3" did not complete successfully: exit code: 3');
    expect(r.stderr).toContain("about to fail");
    expect(h.leftoverMounts()).toEqual([]);
  });

  test("a failing step cancels a running sibling; nothing stays running or mounted", async () => {
    const slow = h.base().run(sh("sleep 30")).root();
    const failing = h.base().run(sh("sleep 0.3; exit 1")).root();
    const t0 = Date.now();
    const r = await h.build(merge([slow, failing]), ["--no-cache"]);
    expect(r.code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(15_000); // bounded: the sleep 30 was canceled
    expect(r.stderr).toContain("CANCELED");
    expect(h.leftoverContainers()).toEqual([]);
    expect(h.leftoverMounts()).toEqual([]);
  });

  test("bad input: missing --local, malformed definition", async () => {
    const missing = await h.build(local("nope").run(sh("true")).root(), [], {});
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split("\n").at(-1)).toBe('error: local://nope: local source "nope": no directory given (pass --local nope=PATH)');
    const bytes = h.base().run(sh("true")).root().marshal({ platform: LINUX_AMD64 });
    const bad = await h.build(bytes.slice(0, bytes.length - 7));
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split("\n").at(-1)).toStartWith("error: invalid definition:");
  });

  test("Ctrl-C mid-build kills the container and leaves nothing mounted", async () => {
    const def = h.base().run(sh("echo started; sleep 60")).root();
    const proc = h.spawn(def, ["--no-cache"]);
    await waitForOutput(proc, "started");
    const t0 = Date.now();
    proc.kill("SIGINT");
    const code = await proc.exited;
    expect(code).not.toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000); // bounded: the sleep 60 was killed
    expect(h.leftoverContainers()).toEqual([]);
    expect(h.leftoverMounts()).toEqual([]);
  });

  test("a killed build is followed by a clean one", async () => {
    const def = h.base().run(sh("echo started; sleep 60")).root();
    const proc = h.spawn(def, ["--no-cache"]);
    await waitForOutput(proc, "started");
    proc.kill("SIGKILL");
    await proc.exited;
    const next = await h.build(h.base().run(sh("echo after")).root());
    expect(next.code).toBe(0);
    expect(h.leftoverContainers()).toEqual([]);
    // Whatever the killed build had mounted was swept by the next start.
    expect(h.leftoverMounts()).toEqual([]);
  });
});

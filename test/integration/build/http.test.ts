// HTTP sources through `buildkit build`: files served by a Bun server on 127.0.0.1 with ETags and
// Last-Modified, revalidated with If-None-Match, pinned by checksum, authenticated by a secret.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "bun";
import { http, scratch, copy } from "../../../src/core/llb/index.ts";
import { sha256 } from "../../../src/core/digest.ts";
import { requireIntegration } from "../../fixtures/prereqs.ts";
import { BUN, CLI } from "../../paths.ts";
import { BuildHarness } from "./harness.ts";

const run = requireIntegration("http source build tests", { runc: true, busybox: true });
let h: BuildHarness;
let server: Server<undefined>;
/** What the server serves, by path; the ETag is the content's digest. */
const files = new Map<string, string>([["/dl/tool.txt", "tool v1\n"]]);
const LAST_MODIFIED = "Tue, 03 Feb 2026 04:05:06 GMT";
/** Bodies sent (200s) and revalidations answered 304, by path. */
const sent: string[] = [];
const notModified: string[] = [];
let requests = 0;

beforeAll(() => {
  if (!run) return;
  h = new BuildHarness();
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      requests++;
      const path = new URL(req.url).pathname;
      if (path === "/private" && req.headers.get("Authorization") !== "Bearer s3cret") return new Response("no", { status: 401 });
      const body = path === "/private" ? "private data\n" : path === "/named" ? "named\n" : files.get(path);
      if (body === undefined) return new Response("missing", { status: 404 });
      const etag = `"${sha256(body).slice(7, 23)}"`;
      if (req.headers.get("If-None-Match")?.split(/,\s*/).includes(etag)) {
        notModified.push(path);
        return new Response(null, { status: 304, headers: { ETag: etag } });
      }
      sent.push(path);
      const headers: Record<string, string> = { ETag: etag, "Last-Modified": LAST_MODIFIED };
      if (path === "/named") headers["Content-Disposition"] = 'attachment; filename="../report.txt"';
      return new Response(body, { headers });
    },
  });
});
afterAll(() => {
  server?.stop(true);
  h?.cleanup();
});

const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;
const lastLine = (stderr: string) => stderr.trim().split("\n").at(-1);

describe.skipIf(!run)("http sources", () => {
  test("download, then revalidate with If-None-Match: 304 is cached, a new ETag downloads again", async () => {
    const out = h.temp("out");
    const def = scratch().file(copy(http(url("/dl/tool.txt")), "/", "/"));
    const first = await h.build(def, ["--output", `type=local,dest=${out}`]);
    if (first.code !== 0) console.log(first.stderr);
    expect(first.code).toBe(0);
    expect(readFileSync(join(out, "tool.txt"), "utf8")).toBe("tool v1\n");
    const st = statSync(join(out, "tool.txt"));
    expect([st.mode & 0o777, st.mtime.toUTCString()]).toEqual([0o600, LAST_MODIFIED]);
    expect(sent.filter((p) => p === "/dl/tool.txt")).toHaveLength(1);

    const again = await h.build(def, ["--output", `type=local,dest=${out}`]);
    expect(again.code).toBe(0);
    expect(notModified).toContain("/dl/tool.txt");
    expect(sent.filter((p) => p === "/dl/tool.txt")).toHaveLength(1);
    const vertices = again.trace().filter((e) => e.type === "vertex" && e.completed);
    expect(vertices.filter((e) => !String(e.name).startsWith("exporting")).map((e) => [e.name, e.cached])).toEqual([
      [url("/dl/tool.txt"), true],
      ["copy / /", true],
    ]);

    files.set("/dl/tool.txt", "tool v2\n");
    const changed = await h.build(def, ["--output", `type=local,dest=${out}`]);
    expect(changed.code).toBe(0);
    expect(readFileSync(join(out, "tool.txt"), "utf8")).toBe("tool v2\n");
    expect(sent.filter((p) => p === "/dl/tool.txt")).toHaveLength(2);
  });

  test("a pinned checksum: right is downloaded once and then needs no request; wrong is refused", async () => {
    const body = "pinned\n";
    files.set("/pinned", body);
    const out = h.temp("out");
    const def = http(url("/pinned"), { checksum: sha256(body), filename: "p.bin", perm: 0o755 });
    expect((await h.build(def, ["--output", `type=local,dest=${out}`])).code).toBe(0);
    expect(readFileSync(join(out, "p.bin"), "utf8")).toBe(body);
    expect(statSync(join(out, "p.bin")).mode & 0o777).toBe(0o755);
    const before = requests;
    expect((await h.build(def, ["--output", `type=local,dest=${out}`])).code).toBe(0);
    expect(requests).toBe(before);

    const wrong = sha256("something else");
    const bad = await h.build(http(url("/pinned"), { checksum: wrong, filename: "other.bin" }));
    expect(bad.code).toBe(1);
    expect(lastLine(bad.stderr)).toBe(`error: ${url("/pinned")}: http source ${url("/pinned")}: digest mismatch: got ${sha256(body)} (expected: ${wrong})`);
  });

  test("Content-Disposition names the file (never a path); 404 and a missing auth are clear errors", async () => {
    const out = h.temp("out");
    expect((await h.build(http(url("/named")), ["--output", `type=local,dest=${out}`])).code).toBe(0);
    expect(readdirSync(out)).toEqual(["report.txt"]);

    const missing = await h.build(http(url("/nope")));
    expect(missing.code).toBe(1);
    expect(lastLine(missing.stderr)).toBe(`error: ${url("/nope")}: http source ${url("/nope")}: invalid response status 404`);
    const denied = await h.build(http(url("/private")));
    expect(lastLine(denied.stderr)).toBe(`error: ${url("/private")}: http source ${url("/private")}: invalid response status 401`);
  });

  test("prune keeps a remembered download: after prune --all the rebuild revalidates (304), nothing is sent again", async () => {
    files.set("/kept.bin", "kept across prunes\n");
    const def = scratch().file(copy(http(url("/kept.bin")), "/", "/"));
    expect((await h.build(def)).code).toBe(0);
    const prune = Bun.spawnSync([BUN, CLI, "prune", "--all", "--root", h.root], { stdout: "pipe", stderr: "pipe" });
    expect(prune.exitCode).toBe(0);
    const out = h.temp("out");
    const again = await h.build(def, ["--output", `type=local,dest=${out}`]);
    expect(again.code).toBe(0);
    expect(readFileSync(join(out, "kept.bin"), "utf8")).toBe("kept across prunes\n");
    expect(sent.filter((p) => p === "/kept.bin")).toHaveLength(1);
    expect(notModified).toContain("/kept.bin");
  });

  test("a bearer token from the HTTP_AUTH_TOKEN_<host> secret", async () => {
    const out = h.temp("out");
    const token = join(h.temp("secret"), "token");
    writeFileSync(token, "s3cret");
    const r = await h.build(http(url("/private")), ["--secret", `id=HTTP_AUTH_TOKEN_127.0.0.1,src=${token}`, "--output", `type=local,dest=${out}`]);
    if (r.code !== 0) console.log(r.stderr);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, "private"), "utf8")).toBe("private data\n");
  });
});

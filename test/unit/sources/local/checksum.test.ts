import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, linkSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { BuildkitError } from "../../../../src/core/errors.ts";
import { checksumTree, copyTree, openStatCache } from "../../../../src/core/sources/local/index.ts";
import type { ChecksumOptions, StatCache } from "../../../../src/core/sources/local/index.ts";
import type { WalkRecords } from "../../../../src/core/sources/local/walk-records.ts";
import { BUN, REPO_ROOT } from "../../../paths.ts";

let base: string;
let root: string;
let cache: StatCache;

/** Fixed old mtimes, the same on every run. */
const OLD = 1_600_000_000;
/** Files changed within 20 ms of a checksum are not trusted from the cache; let changes age. */
const settle = () => Bun.sleep(30);

function write(path: string, content: string, mtime = OLD): void {
  const abs = join(root, path);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, content);
  utimesSync(abs, mtime, mtime);
}

function makeTree(): void {
  write("a.txt", "alpha");
  write("dir/b.txt", "bravo".repeat(1000));
  write("dir/sub/c.bin", "charlie");
  write("empty", "");
  symlinkSync("dir/b.txt", join(root, "link"));
  mkdirSync(join(root, "emptydir"));
}

const sum = (opts: Partial<ChecksumOptions> = {}) => checksumTree(root, { cache, name: "ctx", ...opts });

beforeEach(async () => {
  base = mkdtempSync(join(tmpdir(), "buildkit-ts-checksum-"));
  root = join(base, "ctx");
  mkdirSync(root);
  makeTree();
  cache = openStatCache(join(base, "stat.db"));
  await settle();
});
afterEach(() => {
  cache.close();
  rmSync(base, { recursive: true, force: true });
});

describe("checksumTree", () => {
  test("reports files and bytes; a second run reads nothing", async () => {
    const first = await sum();
    expect(first.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(first).toMatchObject({ files: 4, bytes: 5 + 5000 + 7 + 0, hashedBytes: 5012 });
    const second = await sum();
    expect(second).toEqual({ ...first, hashedBytes: 0 });
  });

  test("the digest is the same in another process and with a fresh cache", async () => {
    const { digest } = await sum();
    const script = `
      import { checksumTree, openStatCache } from "${REPO_ROOT}/src/core/sources/local/index.ts";
      const cache = openStatCache(process.argv[2]);
      const r = await checksumTree(process.argv[1], { cache });
      console.log(r.digest);`;
    const proc = Bun.spawnSync([BUN, "-e", script, root, join(base, "other.db")]);
    expect(proc.stderr.toString()).toBe("");
    expect(proc.stdout.toString().trim()).toBe(digest);
  });

  test("the digest changes with content, mode, a link target or a name", async () => {
    const digests = new Set<string>();
    const record = async () => digests.add((await sum()).digest);
    await record();
    write("a.txt", "alphA");
    await record();
    chmodSync(join(root, "dir/sub/c.bin"), 0o755);
    await record();
    unlinkSync(join(root, "link"));
    symlinkSync("a.txt", join(root, "link"));
    await record();
    renameSync(join(root, "empty"), join(root, "empty2"));
    await record();
    mkdirSync(join(root, "emptydir/more"));
    await record();
    expect(digests.size).toBe(6);
  });

  test("touching a file keeps the digest and re-reads only that file", async () => {
    const first = await sum();
    utimesSync(join(root, "dir/b.txt"), OLD + 100, OLD + 100);
    const touched = await sum();
    expect(touched.digest).toBe(first.digest);
    expect(touched.hashedBytes).toBe(5000);
    await settle();
    expect((await sum()).hashedBytes).toBe(5000); // was too fresh to be cached
    expect((await sum()).hashedBytes).toBe(0);
  });

  test("a same-size rewrite is noticed, even with the old mtime put back", async () => {
    const first = await sum();
    write("dir/sub/c.bin", "CHARLIE", OLD);
    await settle();
    const second = await sum();
    expect(second.digest).not.toBe(first.digest);
    expect(second.hashedBytes).toBe(7);
  });

  test("files changed just now (or dated in the future) are hashed but not trusted from the cache", async () => {
    write("fresh", "new", Date.now() / 1000 + 60);
    await sum();
    expect((await sum()).hashedBytes).toBe(3);
  });

  test("the stat cache persists when the database is opened again", async () => {
    const first = await sum();
    cache.close();
    cache = openStatCache(join(base, "stat.db"));
    const again = await sum();
    expect(again.digest).toBe(first.digest);
    expect(again.hashedBytes).toBe(0);
    const record = cache.get(root, "dir/b.txt");
    expect(record?.size).toBe(5000);
    expect(record?.mtimeNs).toBe(BigInt(OLD) * 1_000_000_000n);
    expect(String(record?.contentDigest)).toBe(`sha256:${new Bun.CryptoHasher("sha256").update("bravo".repeat(1000)).digest("hex")}`);
    expect(cache.get(root, "link")?.linkTarget).toBe("dir/b.txt");
  });

  test("records of removed files are dropped after an unfiltered walk only", async () => {
    await sum();
    unlinkSync(join(root, "a.txt"));
    await sum({ exclude: ["dir"] });
    expect(cache.get(root, "dir/b.txt")).toBeDefined();
    expect(cache.get(root, "a.txt")).toBeDefined();
    await sum();
    expect(cache.get(root, "a.txt")).toBeUndefined();
    expect(cache.get(root, "dir/b.txt")).toBeDefined();
  });

  test("filters change the digest; the cache is shared between filters", async () => {
    const all = await sum();
    const some = await sum({ exclude: ["*.txt"] });
    expect(some.digest).not.toBe(all.digest);
    expect(some.hashedBytes).toBe(0);
    expect(some.files).toBe(3);
    const only = await sum({ include: ["dir"] });
    expect(only).toMatchObject({ files: 2, bytes: 5007, hashedBytes: 0 });
  });

  test("an unchanged tree is answered from its stamp, without loading a record", async () => {
    const first = await sum();
    const loads: string[] = [];
    const counting: StatCache = { ...cache, load: (r) => (loads.push(r), cache.load(r)), get: cache.get.bind(cache), update: cache.update.bind(cache), lastCopy: cache.lastCopy.bind(cache), setLastCopy: cache.setLastCopy.bind(cache), treeStamp: cache.treeStamp.bind(cache), setTreeStamp: cache.setTreeStamp.bind(cache), close: () => {} };
    let walked: WalkRecords | undefined;
    expect(await checksumTree(root, { cache: counting, name: "ctx", walked: (w) => (walked = w) })).toEqual({ ...first, hashedBytes: 0 });
    expect(loads).toEqual([]);
    expect(walked?.entries().map((e) => e.path)).toEqual(["a.txt", "dir", "dir/b.txt", "dir/sub", "dir/sub/c.bin", "empty", "emptydir", "link"]);
    // A stat change reads that file again, and no other record (see the tree records' test);
    // a touch keeps the digest.
    utimesSync(join(root, "a.txt"), OLD + 1, OLD + 1);
    await settle();
    expect(await checksumTree(root, { cache: counting, name: "ctx" })).toEqual({ ...first, hashedBytes: 5 });
    expect(loads).toEqual([]);
    // Another filter set has its own stamp (and tree records).
    const some = await checksumTree(root, { cache: counting, name: "ctx", exclude: ["*.txt"] });
    expect(loads).toEqual([root]);
    expect(await checksumTree(root, { cache: counting, name: "ctx", exclude: ["*.txt"] })).toEqual(some);
    expect(await checksumTree(root, { cache: counting, name: "ctx" })).toEqual({ ...first, hashedBytes: 0 });
    expect(loads.length).toBe(1);
  });

  test("after a small change only what changed is read, from the tree records kept with the stamp", async () => {
    await sum();
    const loads: string[] = [];
    const counting: StatCache = { ...cache, load: (r) => (loads.push(r), cache.load(r)) };
    /** The digest a fresh stat cache (no records, stamps or tree records) gives. */
    const fresh = async () => {
      const other = openStatCache(join(base, `fresh-${Math.random()}.db`));
      try {
        return await checksumTree(root, { cache: other, name: "ctx" });
      } finally {
        other.close();
      }
    };
    // Content and owner changes: only those entries are looked at.
    write("dir/b.txt", "BRAVO".repeat(1000));
    chmodSync(join(root, "dir/sub/c.bin"), 0o600);
    symlinkSync("a.txt", join(root, "link2"));
    unlinkSync(join(root, "link2"));
    await settle();
    const changed = await checksumTree(root, { cache: counting, name: "ctx" });
    expect(changed).toEqual({ ...(await fresh()), hashedBytes: 5000 + 7 });
    expect(loads).toEqual([]);
    // The changed file's stat record is kept, so a later long way does not read it again.
    expect(cache.get(realpathSync(root), "dir/b.txt")?.mtimeNs).toBe(BigInt(OLD) * 1_000_000_000n);
    expect(await checksumTree(root, { cache: counting, name: "ctx" })).toEqual({ ...changed, hashedBytes: 0 });
    // A longer line (the owner's digits) moves every later line; the records saved then serve
    // the next change as well.
    if (process.getuid?.() === 0) {
      chownSync(join(root, "a.txt"), 12345, 0);
      await settle();
      // (read again, as by the stat cache: chown moves the ctime)
      expect(await checksumTree(root, { cache: counting, name: "ctx" })).toEqual({ ...(await fresh()), hashedBytes: 5 });
      write("empty", "now some");
      await settle();
      expect(await checksumTree(root, { cache: counting, name: "ctx" })).toEqual({ ...(await fresh()), hashedBytes: 8 });
      expect(loads).toEqual([]);
    }
    // Many changes (more than the saved records may drift by) save them again, a longer line
    // moving the later ones; the next change reads them.
    if (process.getuid?.() === 0) {
      for (let i = 0; i < 70; i++) write(`many/${i}`, `${i}`);
      await settle();
      await checksumTree(root, { cache: counting, name: "ctx" });
      const loaded = loads.length;
      chownSync(join(root, "a.txt"), 123456, 0);
      for (let i = 0; i < 70; i++) write(`many/${i}`, `${i}!`);
      await settle();
      expect(await checksumTree(root, { cache: counting, name: "ctx" })).toEqual({ ...(await fresh()), hashedBytes: 5 + 10 * 2 + 60 * 3 });
      write("many/7", "seven");
      await settle();
      expect(await checksumTree(root, { cache: counting, name: "ctx" })).toEqual({ ...(await fresh()), hashedBytes: 5 });
      expect(loads.length).toBe(loaded + 1);
      rmSync(join(root, "many"), { recursive: true });
      await settle();
    }
    // A new entry (or one gone, or renamed) changes the tree's shape: the long way.
    const loadsBefore = loads.length;
    write("dir/new.txt", "new");
    await settle();
    const grown = await checksumTree(root, { cache: counting, name: "ctx" });
    expect(grown).toEqual({ ...(await fresh()), hashedBytes: 3 });
    expect(loads.slice(loadsBefore)).toEqual([realpathSync(root)]);
    // Damaged tree records are not used: the long way, the same digest.
    const stamps = join(base, "stat.db.stamps");
    const [tree] = new Bun.Glob("*.tree").scanSync(stamps);
    const file = join(stamps, tree ?? "none");
    const damaged = readFileSync(file);
    const middle = damaged.length >> 1;
    damaged[middle] = (damaged[middle] ?? 0) ^ 1;
    writeFileSync(file, damaged);
    write("a.txt", "ALPHA");
    await settle();
    expect(await checksumTree(root, { cache: counting, name: "ctx" })).toEqual({ ...(await fresh()), hashedBytes: 5 });
    expect(loads.length).toBe(loadsBefore + 2);
    // Cut short: the same.
    writeFileSync(file, readFileSync(file).subarray(0, 100));
    write("a.txt", "alpha");
    await settle();
    expect(await checksumTree(root, { cache: counting, name: "ctx" })).toEqual({ ...(await fresh()), hashedBytes: 5 });
    expect(loads.length).toBe(loadsBefore + 3);
  });

  test("no stamp is saved while a file is racy: a rewrite within its timestamp tick is still seen", async () => {
    write("fresh", "one", Date.now() / 1000 + 60); // dated in the future: racy until then
    const first = await sum();
    writeFileSync(join(root, "fresh"), "two");
    utimesSync(join(root, "fresh"), Date.now() / 1000 + 60, Date.now() / 1000 + 60);
    const second = await sum();
    expect(second.digest).not.toBe(first.digest);
    expect(second.hashedBytes).toBe(3);
  });

  test("refuses a root that is not a directory", async () => {
    const err = await checksumTree(join(root, "a.txt"), { cache, name: "ctx" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BuildkitError);
    expect((err as BuildkitError).code).toBe("NotFound");
    expect((err as BuildkitError).message).toBe(`local source ctx: ${join(root, "a.txt")} is not a directory`);
  });
});

describe("checksumTree with a copy hashing on the way (prehash)", () => {
  test("same digest and stat records as reading the files itself; files the copy left out are read", async () => {
    linkSync(join(root, "a.txt"), join(root, "dir/a-link"));
    utimesSync(join(root, "dir"), OLD, OLD);
    await settle();
    const reference = await sum();
    const recordsBefore = cache.load(realpathSync(root));
    expect(recordsBefore.size).toBe(6);
    cache.close();
    // A fresh stat cache: no records and no tree stamp (kept in files beside the database).
    rmSync(join(base, "stat.db"));
    rmSync(join(base, "stat.db.stamps"), { recursive: true, force: true });
    cache = openStatCache(join(base, "stat.db"));

    const dest = join(base, "copy");
    mkdirSync(dest);
    let hashes: ReadonlyMap<string, unknown> = new Map();
    const fused = await sum({
      prehash: async (walked: WalkRecords) => {
        const copied = await copyTree(root, dest, { walked, hash: true });
        hashes = copied.hashes ?? new Map();
        // one file left out: read by the checksum itself
        return new Map([...(copied.hashes ?? [])].filter(([path]) => path !== "dir/sub/c.bin"));
      },
    });
    expect(fused).toEqual(reference);
    expect([...hashes.keys()].sort()).toEqual(["a.txt", "dir/a-link", "dir/b.txt", "dir/sub/c.bin", "empty"]);
    expect(cache.load(realpathSync(root))).toEqual(recordsBefore);
    // The copy is the tree.
    expect(readFileSync(join(dest, "dir/b.txt"), "utf8")).toBe("bravo".repeat(1000));
    expect(readFileSync(join(dest, "dir/a-link"), "utf8")).toBe("alpha");
    expect(statSync(join(dest, "dir/a-link")).ino).toBe(statSync(join(dest, "a.txt")).ino);
  });
});

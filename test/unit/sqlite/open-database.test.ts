import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../../src/core/sqlite/open-database.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), "opendb-"));
  dirs.push(d);
  return d;
};
const init = (db: import("bun:sqlite").Database) => {
  db.run("PRAGMA journal_mode = WAL");
  db.run("CREATE TABLE IF NOT EXISTS t (x INTEGER)");
};

test("a damaged file is moved aside with one warning and a fresh database opens", () => {
  const dir = temp();
  const path = join(dir, "x.db");
  writeFileSync(path, "garbage ".repeat(1000));
  const lines: string[] = [];
  const db = openDatabase(path, init, { warn: (l) => lines.push(l) });
  db.run("INSERT INTO t VALUES (1)");
  db.close();
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^warning: .*x\.db is damaged \(file is not a database\): moved to .*x\.db\.corrupt-\d{4}-\d\d-\d\dT\d+Z, starting with an empty one\n$/);
  const aside = readdirSync(dir).find((f) => f.startsWith("x.db.corrupt-")) as string;
  expect(readFileSync(join(dir, aside), "utf8")).toStartWith("garbage");
});

test("a sound database opens without a warning; other errors are not swallowed", () => {
  const path = join(temp(), "ok.db");
  const lines: string[] = [];
  openDatabase(path, init, { warn: (l) => lines.push(l) }).close();
  openDatabase(path, init, { warn: (l) => lines.push(l) }).close();
  expect(lines).toEqual([]);
  expect(() =>
    openDatabase(path, () => {
      throw new Error("schema is newer");
    }),
  ).toThrow("schema is newer");
});

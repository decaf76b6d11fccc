// syncfs(2) of a path's filesystem, off this thread (src/backends/standalone/sys/syncfs.ts).
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { distinctFilesystems, syncFilesystemAsync } from "../../../src/backends/standalone/sys/syncfs.ts";

test("syncs the filesystem holding a directory", async () => {
  const dir = mkdtempSync(join(tmpdir(), "buildkit-ts-syncfs-"));
  try {
    await syncFilesystemAsync(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a path that does not exist is an error naming it", async () => {
  await expect(syncFilesystemAsync("/nonexistent/buildkit-ts-syncfs")).rejects.toThrow("syncing the filesystem of /nonexistent/buildkit-ts-syncfs");
});

test("one path per filesystem, missing ones skipped", () => {
  expect(distinctFilesystems([tmpdir(), tmpdir(), "/nonexistent/x"])).toEqual([tmpdir()]);
});

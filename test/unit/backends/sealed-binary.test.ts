// The runtime run from a sealed memfd copy: same bytes, executable, not writable, remade when
// the file on disk changes. Linux only (memfd_create); elsewhere the binary is used as is.
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtimeExecutable } from "../../../src/backends/standalone/executor/sealed-binary.ts";

const dir = mkdtempSync(join(tmpdir(), "buildkit-sealed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(process.platform !== "linux")("runtimeExecutable", () => {
  test("a sealed copy with the same bytes that runs and cannot be written", () => {
    const bin = join(dir, "true");
    copyFileSync("/bin/true", bin);
    const exec = runtimeExecutable(bin);
    expect(exec).toStartWith(`/proc/${process.pid}/fd/`);
    expect(readFileSync(exec).equals(readFileSync(bin))).toBe(true);
    expect(Bun.spawnSync([exec], { argv0: bin }).exitCode).toBe(0);
    const fd = openSync(exec, "r+");
    try {
      expect(() => writeSync(fd, "x")).toThrow(); // F_SEAL_WRITE: EPERM
    } finally {
      closeSync(fd);
    }
    expect(runtimeExecutable(bin)).toBe(exec);
  });

  test("run through a symlink named like the binary, the process is called by that name", async () => {
    const bin = join(dir, "napper");
    copyFileSync("/bin/sleep", bin);
    const linkDir = join(dir, "links");
    const exec = runtimeExecutable(bin, linkDir);
    expect(exec).toBe(join(linkDir, "napper"));
    expect(readlinkSync(exec)).toStartWith(`/proc/${process.pid}/fd/`);
    const proc = Bun.spawn([exec, "5"], { argv0: bin });
    try {
      await Bun.sleep(50);
      expect(readFileSync(`/proc/${proc.pid}/comm`, "utf8").trim()).toBe("napper");
      expect(readlinkSync(`/proc/${proc.pid}/exe`)).toStartWith("/memfd:napper");
    } finally {
      proc.kill();
      await proc.exited;
    }
  });

  test("a changed file gets a new copy; a missing one is returned as is", () => {
    const bin = join(dir, "changing");
    writeFileSync(bin, "#!/bin/sh\nexit 3\n", { mode: 0o755 });
    const first = runtimeExecutable(bin);
    writeFileSync(bin, "#!/bin/sh\nexit 4\n# longer\n", { mode: 0o755 });
    expect(readFileSync(first, "utf8")).toContain("exit 3");
    const second = runtimeExecutable(bin); // the old copy is closed: its fd number may come back
    expect(readFileSync(second, "utf8")).toContain("exit 4");
    const missing = join(dir, "missing");
    expect(runtimeExecutable(missing)).toBe(missing);
  });
});

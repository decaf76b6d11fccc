// offline: a build that needs no network, for trying the engine on any machine with runc.
// The base is a busybox root filesystem given as a local directory (`--local rootfs=DIR`,
// made from Debian's busybox-static by scripts/demo.ts) and the input is this project's
// source (`--local src=DIR`). Independent steps run in parallel; the last step gathers
// their reports into one result.
//
//   bun examples/offline.ts | buildkit build --local rootfs=DIR --local src=. --output type=local,dest=out
import { copy, local, mkfile, scratch, type State } from "../src/core/llb/index.ts";
import type { Example } from "./lib/example.ts";
import { runExample } from "./lib/run.ts";

const sh = (script: string, name: string) => ({ args: ["sh", "-c", script], name });

export const offline: Example = {
  name: "offline",
  summary: "no network: exec steps on a busybox rootfs over this project's source (--local rootfs=DIR --local src=DIR)",
  allowsLocal: true,
  build(): State {
    const base = local("rootfs");
    const src = local("src", { includePatterns: ["src/", "examples/", "package.json"] });
    const step = (script: string, name: string, report: string) =>
      base.run({ ...sh(script, name), cwd: "/src", mounts: [{ dest: "/src", source: src, readonly: true }, { dest: "/out", source: scratch() }] }).getMount("/out")!;
    const lines = step("find . -name '*.ts' | xargs cat | wc -l > /out/lines; sleep 1", "count lines of TypeScript", "lines");
    const files = step("find . -type f | sort > /out/files; sleep 1", "list source files", "files");
    const sums = step("find . -name '*.ts' -type f | sort | xargs sha256sum > /out/sha256sums; sleep 1", "checksum sources", "sha256sums");
    const report = base
      .run({
        ...sh("echo \"$(cat /in/lines) lines of TypeScript in $(wc -l < /in/files) files\" > /report/summary.txt", "write the summary"),
        mounts: [
          { dest: "/in", source: scratch().file(copy(lines, "/lines", "/lines").copy(files, "/files", "/files")), readonly: true },
          { dest: "/report", source: scratch() },
        ],
      })
      .getMount("/report")!;
    return report.file(copy(sums, "/sha256sums", "/sha256sums").mkfile("/README", 0o644, "Made by buildkit-ts from examples/offline.ts.\n"));
  },
};

if (import.meta.main) await runExample(offline);

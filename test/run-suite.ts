#!/usr/bin/env bun
// Runs the test suite and ends with the line CI reads: `N passed, N failed, N skipped`, counted
// from bun's JUnit report rather than bun's own summary.
// Usage: bun test/run-suite.ts [bun test arguments, e.g. test/unit or -t pattern]
//
// bun 1.4.4's JUnit report marks a failed test with a <failure> child and a skipped or todo test
// with <skipped>. An error outside any test (a file that fails to load) is not in the report at
// all, only in bun's exit code: it is counted here as one more failure.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/** Counts the <testcase> elements of a JUnit report by outcome. */
export function countJUnit(xml: string): Counts {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  // Attribute values are quoted and escaped, so a testcase ends at `/>` or at its `</testcase>`.
  const testcase = /<testcase(?:\s+[\w:.-]+="[^"]*")*\s*(?:\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const [, body = ""] of xml.matchAll(testcase)) {
    if (/<(?:failure|error)\b/.test(body)) counts.failed++;
    else if (/<skipped\b/.test(body)) counts.skipped++;
    else counts.passed++;
  }
  return counts;
}

function readReport(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

if (import.meta.main) {
  const root = resolve(import.meta.dir, "..");
  const dir = mkdtempSync(join(tmpdir(), "buildkit-suite-"));
  const report = join(dir, "junit.xml");
  const bun = join(root, "node_modules/.bin/bun");
  // bun's console output stays visible: the JUnit reporter only adds the file.
  // bunfig.toml's [test] timeout is not applied by this bun: give the real-component tests room here.
  const proc = Bun.spawn([bun, "test", "--timeout=120000", "--reporter=junit", `--reporter-outfile=${report}`, ...process.argv.slice(2)], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
  const code = await proc.exited;
  const xml = readReport(report);
  rmSync(dir, { recursive: true, force: true });

  const counts = xml === undefined ? { passed: 0, failed: 0, skipped: 0 } : countJUnit(xml);
  if (xml === undefined) console.log(`bun test wrote no JUnit report (exit code ${code})`);
  if (code !== 0 && counts.failed === 0) {
    console.log(`bun test exited ${code} with no failed test in its report (an error outside any test?): counted as 1 failure`);
    counts.failed = 1;
  }
  console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  process.exit(counts.failed > 0 || code !== 0 ? 1 : 0);
}

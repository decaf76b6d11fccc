// `buildkit debug workers -v` prints a worker as buildctl does: labels sorted, then the GC rules.
import { describe, expect, test } from "bun:test";
import { formatWorkers, type RemoteWorker } from "../../../../src/api/client/workers.ts";
import { defaultGCRules } from "../../../../src/core/cache/gc-space.ts";
import { formatBytesG } from "../../../../src/core/cache/units.ts";

describe("debug workers -v", () => {
  test("sizes print as tonistiigi/units' %g: the shortest exact figure in decimal units", () => {
    expect([0, 512, 999, 1000, 1200, 512e6, 26e9, 26.5e9, 10e9 + 1].map(formatBytesG)).toEqual(["0B", "512B", "999B", "1kB", "1.2kB", "512MB", "26GB", "26.5GB", "10.000000001GB"]);
  });

  test("labels sorted, then each GC rule with only the fields it sets", () => {
    const space = { reservedSpace: 10e9, maxUsedSpace: 100e9, minFreeSpace: 51e9 };
    const worker: RemoteWorker = {
      id: "w",
      platforms: ["linux/amd64"],
      labels: { b: "2", a: "1" },
      version: "github.com/moby/buildkit v0.11.6 ",
      gcPolicy: defaultGCRules(space).slice(0, 2).map((r) => ({ all: r.all, filters: r.filters, keepDuration: r.keepDuration, ...r.space })),
    };
    expect(formatWorkers([worker], true)).toBe(
      "ID:\t\tw\nPlatforms:\tlinux/amd64\nBuildKit:\tgithub.com/moby/buildkit v0.11.6 \nLabels:\n\ta:\t1\n\tb:\t2\n" +
        "GC Policy rule#0:\n\tAll:\tfalse\n\tFilters:\ttype==source.local type==exec.cachemount type==source.git.checkout\n\tKeep duration:\t48h0m0s\n\tMaximum used space:\t512MB\n" +
        "GC Policy rule#1:\n\tAll:\tfalse\n\tKeep duration:\t1440h0m0s\n\tReserved space:\t10GB\n\tMinimum free space:\t51GB\n\tMaximum used space:\t100GB\n\n",
    );
  });
});

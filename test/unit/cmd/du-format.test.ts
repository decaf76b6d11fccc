import { describe, expect, test } from "bun:test";
import { formatTable, PRUNE_ID_WIDTH, tableHeader, tableRow } from "../../../src/cmd/du.ts";
import type { UsageRecord } from "../../../src/core/cache/usage.ts";

const NOW = 1_700_000_000_000;
const record = (id: string): UsageRecord => ({ id, type: "content", size: 1234, created: NOW, lastUsed: NOW - 5000, usageCount: 0, inUse: false, shared: false, description: "", parent: undefined, inputs: [] });

/** Where the RECLAIMABLE column starts on each line. */
const columnStarts = (text: string) => text.trimEnd().split("\n").map((l) => l.search(/ (RECLAIMABLE|true|false)( |$)/));

describe("du's table", () => {
  test("columns stay aligned when an id is longer than the usual width", () => {
    const text = formatTable([record("result-d5e0041c-05ce-40c5-9e7c-ee22b629184c"), record(`sha256:${"a".repeat(64)}`), record("registry.example.test/some/long/image/name:with-a-tag")], NOW);
    expect(new Set(columnStarts(text)).size).toBe(1);
  });

  test("prune's rows, printed as they go, align for cache mount ids", () => {
    const text = tableHeader(PRUNE_ID_WIDTH) + tableRow(record("f".repeat(64)), NOW, PRUNE_ID_WIDTH) + tableRow(record("result-x"), NOW, PRUNE_ID_WIDTH);
    expect(new Set(columnStarts(text)).size).toBe(1);
  });
});

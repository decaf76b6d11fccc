// The examples bundled into the buildkit binary (`buildkit graph NAME`), in order.
import type { Example } from "./lib/example.ts";
import { buildkit0 } from "./buildkit0.ts";
import { buildkit1 } from "./buildkit1.ts";
import { buildkit2 } from "./buildkit2.ts";
import { buildkit3 } from "./buildkit3.ts";
import { buildkit4 } from "./buildkit4.ts";
import { offline } from "./offline.ts";
import { serveImage } from "./serve-image.ts";
import { frontendImage } from "./frontend-image.ts";

export const EXAMPLES: readonly Example[] = [buildkit0, buildkit1, buildkit2, buildkit3, buildkit4, offline, serveImage, frontendImage];

export function findExample(name: string): Example | undefined {
  return EXAMPLES.find((e) => e.name === name);
}

export { exampleDefinition, exampleHelp } from "./lib/run.ts";
export type { Example } from "./lib/example.ts";

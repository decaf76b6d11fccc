import type { OpAdapter } from "../solver/op.ts";

/**
 * An adapter whose module loads on first use. Image and git sources pull in the registry
 * client, layer code and simple-git; a build that has no such source (or finds it all
 * cached) should not pay for loading them at start-up. (Sources only: an op with inputs may
 * also have an inputKey, which this wrapper does not forward.)
 */
export function lazyAdapter(load: () => Promise<OpAdapter>): OpAdapter {
  let adapter: Promise<OpAdapter> | undefined;
  const get = () => (adapter ??= load());
  return {
    async contentKey(ctx) {
      return (await get()).contentKey?.(ctx);
    },
    async remoteKeys(ctx) {
      return (await get()).remoteKeys?.(ctx);
    },
    async provenance(ctx) {
      return (await get()).provenance?.(ctx);
    },
    async exec(inputs, ctx) {
      return (await get()).exec(inputs, ctx);
    },
  };
}

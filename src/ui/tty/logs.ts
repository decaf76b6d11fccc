import type { Digest } from "../../core/digest.ts";

/**
 * The whole output of each unfinished step, so that a failed step's full logs can be printed
 * after the tree. A step that finishes without error has its logs dropped at once; what is kept
 * per step is bounded (the newest bytes win, with a note of how much was left out).
 */
export interface LogKeeper {
  add(vertex: Digest, data: Uint8Array): void;
  /** Forgets a step's logs (it succeeded or was cached). */
  drop(vertex: Digest): void;
  /** The step's logs as text, ending in a newline when not empty. */
  text(vertex: Digest): string;
}

interface Kept {
  chunks: Uint8Array[];
  bytes: number;
  omitted: number;
}

export function createLogKeeper(opts: { maxBytesPerVertex?: number } = {}): LogKeeper {
  const max = opts.maxBytesPerVertex ?? 4 * 1024 * 1024;
  const kept = new Map<Digest, Kept>();

  const trim = (k: Kept): void => {
    while (k.bytes > max && k.chunks.length > 1) {
      const first = k.chunks.shift();
      if (first === undefined) break;
      k.bytes -= first.length;
      k.omitted += first.length;
    }
    const only = k.chunks[0];
    if (k.bytes > max && only !== undefined) {
      k.chunks[0] = only.slice(only.length - max);
      k.omitted += only.length - max;
      k.bytes = max;
    }
  };

  return {
    add(vertex, data) {
      let k = kept.get(vertex);
      if (k === undefined) {
        k = { chunks: [], bytes: 0, omitted: 0 };
        kept.set(vertex, k);
      }
      k.chunks.push(data.slice()); // the producer may reuse its buffer
      k.bytes += data.length;
      trim(k);
    },
    drop(vertex) {
      kept.delete(vertex);
    },
    text(vertex) {
      const k = kept.get(vertex);
      if (k === undefined || k.bytes === 0) return "";
      const body = new TextDecoder().decode(Buffer.concat(k.chunks));
      const note = k.omitted > 0 ? `(${k.omitted} earlier bytes not kept)\n` : "";
      return `${note}${body}${body.endsWith("\n") ? "" : "\n"}`;
    },
  };
}

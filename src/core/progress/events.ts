import type { Digest } from "../digest.ts";
import type { SourceInfo, SourceRange } from "../error-sources.ts";

/**
 * What a build reports while it runs. Every display (tty, plain, rawjson), the trace file and
 * the gRPC Status stream consume this one stream. Times are milliseconds since the epoch.
 */
export type ProgressEvent =
  | {
      readonly type: "vertex";
      readonly digest: Digest;
      readonly name: string;
      readonly inputs: readonly Digest[];
      readonly started?: number;
      readonly completed?: number;
      readonly cached?: boolean;
      readonly error?: string;
      readonly canceled?: boolean;
    }
  | {
      readonly type: "status";
      readonly vertex: Digest;
      readonly id: string;
      readonly current: number;
      readonly total?: number;
      readonly started?: number;
      readonly completed?: number;
    }
  | { readonly type: "log"; readonly vertex: Digest; readonly stream: 1 | 2; readonly data: Uint8Array; readonly time: number }
  | ProgressWarning;

/**
 * A warning about a vertex (BuildKit's client.VertexWarning): a frontend's (a Dockerfile's empty
 * continuation line) through LLBBridge.Warn or in-process. Displays print `WARN: <short>` under
 * the vertex; the rest (detail lines, url, the source and its ranges) travels for clients.
 */
export interface ProgressWarning {
  readonly type: "warning";
  readonly vertex: Digest;
  /** BuildKit's levels: 1 = warning (0 on the wire means 1). */
  readonly level: number;
  readonly short: string;
  readonly detail: readonly string[];
  readonly url?: string;
  readonly source?: { readonly info: SourceInfo; readonly ranges: readonly SourceRange[] };
}

export interface ProgressWriter {
  write(e: ProgressEvent): void;
  close(err?: Error): Promise<void>;
}

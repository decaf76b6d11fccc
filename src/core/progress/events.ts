import type { Digest } from "../digest.ts";

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
  | { readonly type: "log"; readonly vertex: Digest; readonly stream: 1 | 2; readonly data: Uint8Array; readonly time: number };

export interface ProgressWriter {
  write(e: ProgressEvent): void;
  close(err?: Error): Promise<void>;
}

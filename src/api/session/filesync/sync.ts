/**
 * Daemon side of the file services: pull a client's `--local` directory into a mirror directory
 * (FileSync.DiffCopy: the client sends, we receive, comparing with what the mirror holds from
 * the last build), and send an export result into the client's `--output type=local` directory
 * (FileSend.DiffCopy: we send, the client receives).
 */
import { BuildkitError, withContext } from "../../../core/errors.ts";
import { fileSendPackets, fileSyncDiffCopy } from "../methods.ts";
import type { Metadata, SessionCaller } from "../session.ts";
import { keyDirName, keyExcludePatterns, keyFollowPaths, keyIncludePatterns, keyOverrideExcludes } from "./metadata.ts";
import { receiveDir } from "./receive.ts";
import type { ReceiveOptions, ReceiveResult } from "./receive.ts";
import { sendDir } from "./send.ts";
import type { SendOptions } from "./send.ts";

export interface SyncOptions extends Omit<ReceiveOptions, "merge"> {
  /** The `--local` name the client serves. */
  readonly name: string;
  readonly includePatterns?: readonly string[];
  readonly excludePatterns?: readonly string[];
  readonly followPaths?: readonly string[];
  /** Our excludes replace the client's own list for the directory (BuildKit: deprecated). */
  readonly overrideExcludes?: boolean;
}

/**
 * Mirrors the client's directory `opts.name` into `dest` (kept between builds by the caller):
 * only files whose size, time, mode or owner changed are transferred; entries gone are deleted.
 */
export async function syncDir(caller: SessionCaller, dest: string, opts: SyncOptions): Promise<ReceiveResult> {
  const context = `transferring local dir ${JSON.stringify(opts.name)}`;
  if (!caller.supports(fileSyncDiffCopy.path)) {
    throw new BuildkitError("FailedPrecondition", `${context}: the client serves no local directories`);
  }
  const call = new AbortController();
  const stop = () => call.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", stop, { once: true });
  const stream = caller.stream(fileSyncDiffCopy, { metadata: syncMetadata(opts), signal: call.signal });
  try {
    const result = await receiveDir(dest, stream, { filter: opts.filter, onProgress: opts.onProgress, signal: call.signal });
    stream.end();
    return result;
  } catch (err) {
    call.abort(err); // cancels the call: the client stops sending
    throw withContext(context, err);
  } finally {
    opts.signal?.removeEventListener("abort", stop);
  }
}

function syncMetadata(opts: SyncOptions): Metadata {
  const md: Record<string, readonly string[]> = { [keyDirName]: [opts.name] };
  if (opts.includePatterns) md[keyIncludePatterns] = opts.includePatterns;
  if (opts.excludePatterns) md[keyExcludePatterns] = opts.excludePatterns;
  if (opts.followPaths) md[keyFollowPaths] = opts.followPaths;
  if (opts.overrideExcludes) md[keyOverrideExcludes] = ["true"];
  return md;
}

/** Sends the tree at `dir` to the client's local export target (BuildKit's CopyToCaller). */
export async function copyToCaller(caller: SessionCaller, dir: string, opts: Pick<SendOptions, "onProgress" | "signal" | "modTime" | "subdir" | "extraFiles"> = {}): Promise<void> {
  const context = "exporting to the client's directory";
  if (!caller.supports(fileSendPackets.path)) {
    throw new BuildkitError("FailedPrecondition", `${context}: the client does not accept files (method ${fileSendPackets.path})`);
  }
  const call = new AbortController();
  const stop = () => call.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", stop, { once: true });
  const stream = caller.stream(fileSendPackets, { signal: call.signal });
  try {
    await sendDir(dir, stream, { ...opts, signal: call.signal });
    stream.end();
    // The client answers FIN once all is written; its handler's end (or error) ends the call.
    while ((await stream.recv()) !== undefined);
  } catch (err) {
    call.abort(err);
    throw withContext(context, err);
  } finally {
    opts.signal?.removeEventListener("abort", stop);
  }
}

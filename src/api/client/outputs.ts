// `--output` for a remote build: what the daemon is asked to export, and where the client
// receives it. local, tar, oci and docker with a dest land on the client (through the session's
// FileSend); image and any other type run on the daemon with their attributes as given.
import { createWriteStream } from "node:fs";
import { resolve } from "node:path";
import { Writable } from "node:stream";
import { BuildkitError } from "../../core/errors.ts";
import { parseGoBool } from "../../core/go-bool.ts";
import { parseOutputSpec } from "../../core/exporters/spec.ts";
import type { FileSendTarget } from "../session/filesync/target.ts";

export interface RemoteOutput {
  readonly type: string;
  /** Sent to the daemon as ExporterAttrs (a client-side dest is not among them). */
  readonly attrs: Readonly<Record<string, string>>;
  /** Where the client receives the export; undefined when the daemon keeps it (type=image). */
  readonly target?: FileSendTarget;
  /**
   * oci/docker with tar=false: the OCI layout directory the daemon fills through the session's
   * "export" content store; the client tags its index.json after the build, as buildctl does.
   */
  readonly layoutDir?: string;
  /** Writing to stdout: no progress may go there. */
  readonly toStdout: boolean;
}

export interface OutputOptions {
  /** Resolves a relative dest (default: node:path's resolve). */
  readonly resolvePath?: (path: string) => string;
  /** Where dest=- writes (default: process.stdout). */
  readonly stdout?: NodeJS.WritableStream;
}

/** Parses one --output spec; throws InvalidArgument for a missing or unusable dest. */
export function parseRemoteOutput(spec: string, opts: OutputOptions = {}): RemoteOutput {
  const { type, attrs } = parseOutputSpec(spec);
  const { dest, ...rest } = attrs;
  const abs = opts.resolvePath ?? ((p: string) => resolve(p));
  switch (type) {
    case "local":
      if (!dest || dest === "-") throw new BuildkitError("InvalidArgument", "output type=local: dest=DIR is required");
      return { type, attrs: rest, target: { kind: "dir", dir: abs(dest) }, toStdout: false };
    case "tar":
    case "oci":
    case "docker": {
      if (type !== "tar" && rest.tar !== undefined && parseGoBool(rest.tar) === false) {
        if (!dest || dest === "-") throw new BuildkitError("InvalidArgument", `output type=${type}: tar=false needs dest=DIR`);
        return { type, attrs: rest, layoutDir: abs(dest), toStdout: false };
      }
      if (!dest) throw new BuildkitError("InvalidArgument", `output type=${type}: dest=FILE or dest=- is required`);
      const toStdout = dest === "-";
      const open = toStdout ? () => keepOpen(opts.stdout ?? process.stdout) : () => createWriteStream(abs(dest), { mode: 0o644 });
      return { type, attrs: rest, target: { kind: "writer", open: async () => open() }, toStdout };
    }
    default:
      return { type, attrs, toStdout: false };
  }
}

/** At most one output per build (as BuildKit v0.11's client), parsed. */
export function parseRemoteOutputs(specs: readonly string[], opts: OutputOptions = {}): RemoteOutput | undefined {
  if (specs.length > 1) throw new BuildkitError("InvalidArgument", "a remote build takes one --output (as BuildKit's client)");
  return specs[0] === undefined ? undefined : parseRemoteOutput(specs[0], opts);
}

/** A writer over stdout that ending does not close (the process still writes there). */
function keepOpen(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (out.write(chunk)) callback();
      else out.once("drain", () => callback());
    },
  });
}

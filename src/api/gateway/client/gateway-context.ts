// A FrontendContext over the LLBBridge, for a frontend running as a gateway frontend (in a
// container the daemon started): files of the client's locals are read as BuildKit's Dockerfile
// builder reads them, by solving a local source that sends only that file and reading it from
// the result; image configs come from the daemon's ResolveImageConfig.
import { local } from "../../../core/llb/index.ts";
import { withContext } from "../../../core/errors.ts";
import type { FrontendContext } from "../../../core/frontends/frontend.ts";
import { GrpcError, Status } from "../../grpc/status.ts";
import type { BridgeClient } from "./bridge-client.ts";

export interface GatewayContextOptions {
  /** BUILDKIT_SESSION_ID: the client's session, named by every local source. */
  readonly sessionId: string;
}

export function createGatewayFrontendContext(client: BridgeClient, opts: GatewayContextOptions): FrontendContext {
  return {
    sessionId: opts.sessionId,
    async readFile(localName, path, signal, o) {
      // A one-file transfer gets a daemon-side copy of its own ("context-.dockerignore", as
      // BuildKit's builder names it): sharing the build context's copy would make the daemon
      // drop everything else from it and send the whole context again on the next build.
      // Given a source (the Dockerfile's, build.go's `src`), the read is that source's vertex.
      const definition =
        o?.source?.definition ??
        local(localName, {
          followPaths: [path],
          sessionId: opts.sessionId,
          sharedKeyHint: `${localName}-${path}`,
          ...(o?.name ? { name: o.name } : {}),
        }).marshal();
      let ref: string;
      try {
        const result = await client.solve({ definition }, signal);
        if (result.kind !== "ref") throw new Error("the daemon answered several results for one local source");
        ref = result.ref.id;
      } catch (err) {
        throw withContext(`reading ${path} from local "${localName}"`, err);
      }
      // An empty result: nothing was sent, so the file is absent.
      if (ref === "") return undefined;
      try {
        return await client.readFile(ref, path, signal);
      } catch (err) {
        if (isMissingFile(err)) return undefined;
        throw withContext(`reading ${path} from local "${localName}"`, err);
      }
    },
    // Only a daemon with the cap has Warn (BuildKit's builder checks gateway.warnings too).
    ...(client.caps.frontend.has("gateway.warnings") ? { warn: (w, signal) => client.warn(w, signal) } : {}),
    async resolveImageConfig(ref, platform, { resolveMode, signal, logName, store }) {
      try {
        return await client.resolveImageConfig(ref, { platform, resolveMode, ...(logName ? { logName } : {}), ...(store ? { store } : {}), signal });
      } catch (err) {
        throw withContext(`resolving image config for ${ref}`, err);
      }
    },
  };
}

/**
 * Whether ReadFile failed because the path is no regular file: BuildKit answers os.ReadFile's
 * error (UNKNOWN, "open …: no such file or directory" or "read …: is a directory"), our daemon
 * NOT_FOUND or "not a regular file". The in-process contexts answer undefined for both.
 */
function isMissingFile(err: unknown): boolean {
  if (!(err instanceof GrpcError)) return false;
  return err.code === Status.NOT_FOUND || /no such file or directory|is a directory|not a regular file/.test(err.message);
}

/**
 * The Dockerfile as a source map, made as BuildKit's builder (build.go) makes it: the local
 * source it loads the Dockerfile with, marshalled on its own, is the map's definition.
 *
 * Per-run values in that definition: `local.session` (the client's session id) or, without a
 * session, `local.unique` (Go: a random id per marshal; ours: marshalDefinition's default).
 */
import { posix } from "node:path";
import { local, SourceMap, type State } from "../../llb/index.ts";
import { marshalDefinition } from "../../llb/marshal.ts";
import type { LocalSourceDefinition } from "../frontend.ts";

export interface DockerfileSourceOptions {
  /** The local the Dockerfile is read from (`dockerfilekey`, default "dockerfile"). */
  localName: string;
  /** The Dockerfile's path in it (`filename`). */
  filename: string;
  sessionId?: string;
  /** `local.unique` when there is no session (tests fix it; default: marshalDefinition's). */
  localUniqueId?: string;
}

/** build.go's `src`: the Dockerfile, its .dockerignore and the lower-case "dockerfile" fallback. */
export function dockerfileLocal(o: DockerfileSourceOptions): State {
  const followPaths = [o.filename, `${o.filename}.dockerignore`];
  if (posix.basename(o.filename) === "Dockerfile") followPaths.push(posix.join(posix.dirname(o.filename), "dockerfile"));
  return local(o.localName, {
    followPaths,
    ...(o.sessionId ? { sessionId: o.sessionId } : {}),
    sharedKeyHint: o.localName,
    name: `[internal] load build definition from ${o.filename}`,
    differ: { type: "none", required: false },
  });
}

/** build.go's `def, _ := src.Marshal()` and `defVtx, _ := def.Head()`: the vertex warnings name. */
export function dockerfileSource(o: DockerfileSourceOptions): LocalSourceDefinition {
  const { bytes, digests } = marshalDefinition(dockerfileLocal(o).output(), o.localUniqueId === undefined ? undefined : { localUniqueId: o.localUniqueId });
  // digests end with the terminal op; the one before it is the local source it points at.
  return { definition: bytes, vertex: digests[digests.length - 2]! };
}

/**
 * `llb.NewSourceMap(&src, filename, data)` with `Definition` set to src's own marshal (given:
 * the one the Dockerfile was read through, so both name the same vertex).
 */
export function dockerfileSourceMap(o: DockerfileSourceOptions, data: Uint8Array, source: LocalSourceDefinition = dockerfileSource(o)): SourceMap {
  const sm = new SourceMap(dockerfileLocal(o), o.filename, data);
  sm.definition = source.definition;
  return sm;
}

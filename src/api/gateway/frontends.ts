// Frontends run in the daemon (SolveRequest.Frontend, or a gateway client's Solve naming one):
// they read the client's files through its session and resolve images with the engine's
// registry client, then hand back a Definition and result metadata.
import type { Engine, SolveContext } from "../../core/engine/index.ts";
import { BuildkitError } from "../../core/errors.ts";
import { FRONTENDS, runRecorded, type RecordedFrontendResult } from "../../core/frontends/frontend.ts";
import { createDirFrontendContext } from "../../core/frontends/local-context.ts";

export async function runFrontend(name: string, opts: Readonly<Record<string, string>>, ctx: SolveContext, engine: Engine): Promise<RecordedFrontendResult> {
  const frontend = Object.hasOwn(FRONTENDS, name) ? FRONTENDS[name] : undefined;
  if (!frontend) throw new BuildkitError("Unimplemented", `frontend ${JSON.stringify(name)} is not supported (known: ${Object.keys(FRONTENDS).join(", ")})`);
  const context = createDirFrontendContext({
    // Only the file asked for crosses the wire (the mirror is per filter set).
    dir: (local, path, signal) => ctx.session.localDir(local, { include: [path.replace(/^\/+/, "")], signal }),
    registry: engine.registry,
    content: engine.worker.content,
    root: engine.worker.root,
  });
  return runRecorded(name, frontend, opts, { ...context, progress: ctx.progress }, ctx.signal);
}

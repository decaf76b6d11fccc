/**
 * A FrontendContext for daemonless builds: files from the `--local NAME=DIR` directories (a
 * path never leaves its directory, symlinks included) and image configs from our registry client
 * or, by the resolve mode, the worker's image store.
 */
import { realpath } from "node:fs/promises";
import { join, relative, isAbsolute } from "node:path";
import { BuildkitError } from "../errors.ts";
import type { RegistryClient } from "../registry/index.ts";
import type { FrontendContext } from "./frontend.ts";
import type { ContentStore } from "../worker/content-store.ts";
import { resolveImageForConfig } from "../sources/image/resolve-mode.ts";
import { EMPTY_SESSION, type BuildSession } from "../session/session.ts";

/** Where images resolve: the registry, and the worker's image store and content (resolve modes). */
export interface FrontendImageDeps {
  readonly registry: () => Promise<RegistryClient>;
  readonly content: ContentStore;
  /** The worker's state root (its images.json). */
  readonly root: string;
  /** Where the client's OCI layouts are (its session's content stores); none when absent. */
  readonly session?: Pick<BuildSession, "contentStore">;
}

export interface LocalFrontendOptions extends FrontendImageDeps {
  /** Local names → directories. */
  readonly dirs: ReadonlyMap<string, string>;
}

export function createLocalFrontendContext(opts: LocalFrontendOptions): FrontendContext {
  return createDirFrontendContext({ ...opts, dir: async (local) => opts.dirs.get(local) });
}

/**
 * A FrontendContext over directories found on demand (the daemon's mirrors of a client's
 * locals, transferred when first asked for) and our registry client.
 */
export function createDirFrontendContext(opts: FrontendImageDeps & {
  dir: (local: string, path: string, signal: AbortSignal) => Promise<string | undefined>;
}): FrontendContext {
  return {
    async readFile(local, path, signal) {
      signal.throwIfAborted();
      const dir = await opts.dir(local, path, signal);
      return dir === undefined ? undefined : readFileInDir(dir, local, path);
    },
    async resolveImageConfig(ref, platform, { resolveMode, signal, store }) {
      if (store) {
        const { ociLayoutImageConfig } = await import("../sources/oci-layout/image-config.ts");
        return ociLayoutImageConfig(opts.session ?? EMPTY_SESSION, ref, platform, store.storeId, signal);
      }
      const { image: r } = await resolveImageForConfig(ref, platform, resolveMode, opts, signal);
      // Go's resolver pins the digest it was given: the index's when the ref names an index.
      return { digest: r.indexDigest ?? r.digest, config: r.configBytes };
    },
  };
}

/** A regular file at path inside dir (symlinks may not lead out); undefined when there is none. */
async function readFileInDir(dir: string, local: string, path: string): Promise<Uint8Array | undefined> {
  const root = await realpath(dir).catch(() => undefined);
  if (root === undefined) return undefined;
  const real = await realpath(join(root, join("/", path))).catch(() => undefined);
  if (real === undefined) return undefined;
  const rel = relative(root, real);
  if (rel.startsWith("..") || isAbsolute(rel)) throw new BuildkitError("InvalidArgument", `reading ${path} from local "${local}": it leads outside the directory`);
  const file = Bun.file(real);
  const stat = await file.stat().catch(() => undefined);
  if (!stat?.isFile()) return undefined;
  return new Uint8Array(await file.arrayBuffer());
}

/**
 * Where a tar entry lands inside the layer root. Names are cleaned lexically first: leading
 * "/" are dropped (as tar and containerd do), and a name whose `..` would climb above the
 * root is refused. Parent directories are then resolved inside the root with chroot
 * semantics (safe-path.ts): a symlink in a parent is followed, an absolute target being
 * taken relative to the root, so `a -> /etc` then `a/passwd` writes `<root>/etc/passwd`, the
 * way containerd's applier (fs.RootPath) and BuildKit's file ops behave. Nothing resolves
 * outside the root. The final component is never followed: an existing entry there is
 * replaced, not written through.
 */
import { mkdir, realpath } from "node:fs/promises";
import { posix } from "node:path";
import { BuildkitError } from "../errors.ts";
import { errnoCode } from "../fs/fs-error.ts";
import { isInside, normalizeRoot, resolveInRoot } from "../fs/safe-path.ts";

/** "a/b" for "/a/./b/", "" for the root itself; throws when `..` leaves the root. */
export function cleanEntryName(name: string, what = "path"): string {
  if (name.includes("\0")) throw new BuildkitError("InvalidArgument", `${what} contains a NUL byte`);
  const stripped = name.replace(/^\/+/, "");
  const clean = posix.normalize(stripped === "" ? "." : stripped).replace(/\/+$/, "");
  if (clean === ".." || clean.startsWith("../")) {
    throw new BuildkitError("InvalidArgument", `${what} escapes the layer root`);
  }
  return clean === "." ? "" : clean;
}

/** The parent and base name of a cleaned, non-root path. */
export function splitEntryName(rel: string): { parent: string; base: string } {
  const slash = rel.lastIndexOf("/");
  return { parent: slash < 0 ? "" : rel.slice(0, slash), base: rel.slice(slash + 1) };
}

/**
 * Host paths of parent directories, resolved inside the root and cached: a layer lists many
 * entries per directory, and resolving walks every component. Anything that removes or
 * replaces a path must call {@link invalidate}, since a cached resolution may run through it.
 */
export class ParentResolver {
  readonly root: string;
  readonly #cache = new Map<string, string>();
  #realRoot: string | undefined;

  constructor(root: string) {
    this.root = normalizeRoot(root) || "/";
  }

  /**
   * The host directory for `parent` (cleaned, root-relative), every component followed
   * inside the root, created (0755) if missing. Its real path is checked to be inside the
   * root's, so a flaw in resolution cannot lead a write outside.
   */
  async ensure(parent: string): Promise<string> {
    const cached = this.#cache.get(parent);
    if (cached !== undefined) return cached;
    const host = await resolveInRoot(this.root, parent);
    if (host !== this.root) await mkdir(host, { recursive: true, mode: 0o755 });
    await this.#checkReal(host);
    this.#cache.set(parent, host);
    return host;
  }

  /** Defence in depth: `dir` (a resolved directory) really is inside the root. */
  async #checkReal(dir: string): Promise<void> {
    this.#realRoot ??= await realpath(this.root);
    if (!isInside(this.#realRoot, await realpath(dir))) throw new BuildkitError("Internal", "path escapes the layer root");
  }

  /** The host path of a cleaned root-relative path, not following its final component. */
  async resolve(rel: string): Promise<string> {
    if (rel === "") return this.root;
    const { parent, base } = splitEntryName(rel);
    let dir = this.#cache.get(parent);
    if (dir === undefined) {
      dir = await resolveInRoot(this.root, parent);
      await this.#checkReal(dir).catch((err: unknown) => {
        if (errnoCode(err) !== "ENOENT") throw err; // a missing parent holds nothing to touch
      });
    }
    return dir === "/" ? `/${base}` : `${dir}/${base}`;
  }

  invalidate(): void {
    this.#cache.clear();
  }
}

// Paths on the client's machine, which need not be Linux: `--local NAME=DIR` and output dests
// resolve with the client platform's rules (drive letters and backslashes on Windows), and the
// "/"-separated names a daemon sends back are checked before they become files there.
import { posix, win32 } from "node:path";
import { BuildkitError } from "../../core/errors.ts";

export interface ClientPlatform {
  /** process.platform of the client. */
  readonly platform: string;
  readonly cwd: string;
}

export const HOST_PLATFORM: ClientPlatform = { platform: process.platform, cwd: process.cwd() };

/** An absolute path on the client, resolved against its working directory with its own rules. */
export function resolveClientPath(path: string, on: ClientPlatform = HOST_PLATFORM): string {
  if (path === "") throw new BuildkitError("InvalidArgument", "resolving path: empty path");
  return on.platform === "win32" ? win32.resolve(on.cwd, path) : posix.resolve(on.cwd, path);
}

/**
 * `NAME=PATH` split at the first "=" (a Windows path has none, but a drive's ":" must survive):
 * the name may not hold path separators.
 */
export function splitNamedPath(flag: string, value: string): { name: string; path: string } {
  const eq = value.indexOf("=");
  if (eq <= 0 || eq === value.length - 1) throw new BuildkitError("InvalidArgument", `${flag} ${value}: expected NAME=PATH`);
  const name = value.slice(0, eq);
  if (/[/\\]/.test(name)) throw new BuildkitError("InvalidArgument", `${flag} ${value}: the name may not contain a path separator`);
  return { name, path: value.slice(eq + 1) };
}

/** Windows device names: a file by such a name (any extension) cannot be created. */
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

/**
 * Throws unless `rel` (a "/"-separated path from the daemon) names a place inside the output
 * directory on this platform. On Windows a backslash, a drive or stream ":", a reserved device
 * name, or a trailing dot or space would change what the name means there.
 */
export function checkReceivedPath(rel: string, platform: string = process.platform): void {
  const fail = (why: string) => {
    throw new BuildkitError("InvalidArgument", `receiving ${JSON.stringify(rel)}: ${why}`);
  };
  if (rel === "" || rel.startsWith("/")) fail("not a relative path");
  for (const part of rel.split("/")) {
    if (part === "" || part === "." || part === "..") fail("not a clean relative path");
    if (platform !== "win32") continue;
    if (/[\\:*?"<>|\x00-\x1f]/.test(part)) fail("a name Windows cannot hold (\\ : * ? \" < > | or a control character)");
    if (RESERVED.test(part)) fail("a reserved device name on Windows");
    if (/[. ]$/.test(part)) fail("a name ending in a dot or space, which Windows drops");
  }
}

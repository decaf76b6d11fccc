/**
 * Turning Node's errno errors into BuildkitErrors with Go-style causes ("no such file or
 * directory"), so file-op messages read like BuildKit's: `verb path: cause`.
 */
import { lstatSync, type BigIntStats, type Stats } from "node:fs";
import { BuildkitError } from "../errors.ts";
import type { ErrorCode } from "../errors.ts";

const causes: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EEXIST: "file exists",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  ENOTEMPTY: "directory not empty",
  ELOOP: "too many levels of symbolic links",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EINVAL: "invalid argument",
  EMLINK: "too many links",
  ENAMETOOLONG: "file name too long",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
  EXDEV: "invalid cross-device link",
  EBUSY: "device or resource busy",
};

const codes: Readonly<Record<string, ErrorCode>> = {
  ENOENT: "NotFound",
  EEXIST: "AlreadyExists",
  ENOTDIR: "FailedPrecondition",
  EISDIR: "FailedPrecondition",
  ENOTEMPTY: "FailedPrecondition",
  ELOOP: "FailedPrecondition",
  EACCES: "FailedPrecondition",
  EPERM: "FailedPrecondition",
  ENAMETOOLONG: "InvalidArgument",
  EINVAL: "InvalidArgument",
};

/** The errno name ("ENOENT") of a Node system error, or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null || !("code" in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/**
 * lstat, or undefined when nothing is there: no entry, or a non-directory where a parent
 * directory was (nothing can be below a file).
 */
export function lstatIfAny(path: string): Stats | undefined;
export function lstatIfAny(path: string, opts: { bigint: true }): BigIntStats | undefined;
export function lstatIfAny(path: string, opts?: { bigint: true }): Stats | BigIntStats | undefined {
  try {
    return opts ? lstatSync(path, { bigint: true, throwIfNoEntry: false }) : lstatSync(path, { throwIfNoEntry: false });
  } catch (err) {
    if (errnoCode(err) === "ENOTDIR") return undefined;
    throw err;
  }
}

/** A BuildkitError for any thrown value; `subject` (a root-relative path) prefixes the cause. */
export function toFsError(err: unknown, subject?: string): BuildkitError {
  if (err instanceof BuildkitError) return err;
  const errno = errnoCode(err);
  const cause = (errno && causes[errno]) ?? (err instanceof Error ? err.message : String(err));
  const code = (errno && codes[errno]) || "Internal";
  return new BuildkitError(code, subject === undefined ? cause : `${subject}: ${cause}`, { cause: err });
}

/** `verb path: cause`, keeping the cause's code. */
export function actionError(verb: string, path: string, err: unknown): BuildkitError {
  const inner = toFsError(err);
  return new BuildkitError(inner.code, `${verb} ${path}: ${inner.message}`, { cause: err });
}

/** A BuildkitError with a code and a one-line cause. */
export function fsError(code: ErrorCode, cause: string): BuildkitError {
  return new BuildkitError(code, cause);
}

/** Runs `fn`; a missing file (ENOENT) yields undefined instead of an error. */
export async function ifExists<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}

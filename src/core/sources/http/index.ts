/**
 * The `http://` / `https://` source: one downloaded file, revalidated by ETag, cached by
 * content digest (or by a pinned checksum without any request).
 */
export { httpSource } from "./source.ts";
export type { HttpSourceDeps } from "./source.ts";
export { fileNameFor, parseHttpIdentifier, safeFileName } from "./identifier.ts";
export type { HttpIdentifier } from "./identifier.ts";

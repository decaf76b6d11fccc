// Ids a client makes up: build refs and session ids (BuildKit's identity.NewID: 25 characters
// of base36), and the session's shared key, stable per machine and directory set so that a
// daemon's mirror of the client's directories is reused and only changes are sent.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { sha256 } from "../../core/digest.ts";

/** A random 25-character lowercase base36 id. */
export function newId(): string {
  let n = BigInt(`0x${randomBytes(16).toString("hex")}`);
  let out = "";
  for (let i = 0; i < 25; i++, n /= 36n) out += "0123456789abcdefghijklmnopqrstuvwxyz"[Number(n % 36n)];
  return out;
}

/** The same for the same host and the same local directories, whatever their names. */
export function sharedKey(dirs: Iterable<string>, host: string = hostname()): string {
  const sorted = [...new Set(dirs)].sort();
  return sha256(JSON.stringify([host, sorted])).slice("sha256:".length, "sha256:".length + 32);
}

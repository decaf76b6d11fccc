// `build --metadata-file F`: the exporters' response as JSON, as buildctl writes it
// (cmd/buildctl/build.go writeMetadataFile): a value that is base64 of a non-empty JSON object
// (containerimage.descriptor) is embedded as that object, every other value stays a string.
// Written to a temporary name and renamed, so a reader never sees half a file.
import { renameSync, writeFileSync } from "node:fs";
import { withContext } from "../core/errors.ts";

/** Go's base64.StdEncoding: padded, the standard alphabet, a multiple of 4 characters. */
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function embedded(value: string): unknown {
  if (!STD_BASE64.test(value)) return value;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, "base64").toString("utf8"));
    const isObject = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
    return isObject && Object.keys(parsed).length > 0 ? parsed : value;
  } catch {
    return value;
  }
}

/** The file's text: keys sorted (as Go's encoding/json orders a map), two-space indentation. */
export function formatMetadata(response: Readonly<Record<string, string>>): string {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(response).sort()) out[key] = embedded(response[key] ?? "");
  return JSON.stringify(out, null, 2);
}

export function writeMetadataFile(path: string, response: Readonly<Record<string, string>>): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, formatMetadata(response), { mode: 0o666 });
    renameSync(temp, path);
  } catch (err) {
    throw withContext(`writing metadata file ${path}`, err);
  }
}

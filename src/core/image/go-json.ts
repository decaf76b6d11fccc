/** JSON as Go's encoding/json writes it: like JSON.stringify, but <, >, & and U+2028/U+2029 escaped. */
export function goJSON(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

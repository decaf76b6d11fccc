/**
 * A boolean attribute as BuildKit reads one: strconv.ParseBool's spellings, and "" (the key
 * alone, as in `push`) as true; undefined for anything else, which the caller reports.
 */
export function parseGoBool(value: string): boolean | undefined {
  if (["", "1", "t", "T", "true", "TRUE", "True"].includes(value)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(value)) return false;
  return undefined;
}

/**
 * "(did you mean FROM?)" after an unknown name, as BuildKit's util/suggest does: the closest
 * option by Levenshtein distance, if closer than 3, in the case the name was written in.
 */

/** Edit distance with unit costs (agext/levenshtein's Distance with default params). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The message with a suggestion appended (case-insensitive matching). Go walks the options in
 * map order, so between equally close ones it picks any; we take the first in `options`' order.
 */
export function withSuggestion(message: string, value: string, options: readonly string[]): string {
  const lower = value.toLowerCase();
  let match = "";
  let best = 3;
  for (const o of options.map((x) => x.toLowerCase())) {
    if (o === lower) return message;
    const d = distance(lower, o);
    if (d < best) [match, best] = [o, d];
  }
  if (!match) return message;
  const shown = value === value.toLowerCase() ? match : value === value.toUpperCase() ? match.toUpperCase() : match;
  return `${message} (did you mean ${shown}?)`;
}

// Go's time.Duration.String, for what BuildKit prints with %v of a duration (history messages,
// `buildctl debug workers`).

/** The integer part of v/div and its fraction with trailing zeros dropped, as Duration.String writes it. */
function fraction(v: number, div: number): string {
  const whole = Math.floor(v / div);
  const digits = String(div).length - 1;
  const rest = String(v % div).padStart(digits, "0").replace(/0+$/, "");
  return rest ? `${whole}.${rest}` : `${whole}`;
}

/** time.Duration.String of nanoseconds: "0s", "1.5s", "1m30s", "1h0m0s", "500ms". */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  const sign = ns < 0 ? "-" : "";
  let u = Math.abs(ns);
  if (u < 1e9) {
    const [div, unit] = u < 1e3 ? [1, "ns"] : u < 1e6 ? [1e3, "µs"] : [1e6, "ms"];
    return `${sign}${fraction(u, div)}${unit}`;
  }
  const h = Math.floor(u / 3.6e12);
  u -= h * 3.6e12;
  const m = Math.floor(u / 6e10);
  u -= m * 6e10;
  return `${sign}${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${fraction(u, 1e9)}s`;
}

import type { ProgressEvent, ProgressWriter } from "./events.ts";

const MASK = "****";

/**
 * Masks secret values in log output before any display or trace sees it. A secret split
 * across two chunks of output is not caught; processes rarely write a secret in pieces.
 */
export function redactLogs(inner: ProgressWriter, secrets: readonly string[]): ProgressWriter {
  const values = secrets.filter((s) => s.length >= 3);
  if (values.length === 0) return inner;
  const mask = (text: string) => values.reduce((t, s) => t.split(s).join(MASK), text);
  return {
    write(e: ProgressEvent) {
      if (e.type !== "log") return inner.write(e);
      const text = new TextDecoder().decode(e.data);
      const masked = mask(text);
      inner.write(masked === text ? e : { ...e, data: new TextEncoder().encode(masked) });
    },
    close: (err) => inner.close(err),
  };
}

export function redactText(text: string, secrets: readonly string[]): string {
  return secrets.filter((s) => s.length >= 3).reduce((t, s) => t.split(s).join(MASK), text);
}

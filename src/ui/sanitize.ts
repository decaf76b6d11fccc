// Making text from a build safe to print on a terminal. Step names, logs and error messages
// come from definitions and processes we do not trust: an ESC or a C1 control could clear the
// screen, set the window title (OSC), or move the cursor to forge other lines. Controls are
// shown escaped (`\x1b[2J` prints as those six characters), and names and errors are cut to a
// length a person can read (a 3 MB argument is not echoed whole).

/** Longest step name printed, in characters. */
export const MAX_NAME = 512;
/** Longest error message printed. */
export const MAX_ERROR = 2048;

// C0 controls, DEL and C1 controls (U+0080–U+009F: 8-bit CSI and OSC on some terminals).
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;
const LOG_CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g; // keeps \t (0x09) and \n (0x0a)

function hex(ch: string): string {
  return `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

/** Every control character shown as `\xHH`; with keepLayout, tabs and newlines stay. */
export function escapeControls(s: string, opts: { keepLayout?: boolean } = {}): string {
  return s.replace(opts.keepLayout ? LOG_CONTROLS : CONTROLS, hex);
}

/** s cut to max characters, the cut marked with `…` and how much was left out. */
export function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  return `${s.slice(0, max)}… (${s.length - max} more characters)`;
}

/** A step name on one line: newlines folded to spaces, controls escaped, cut to MAX_NAME. */
export function safeName(name: string): string {
  return escapeControls(cut(name, MAX_NAME).replace(/\s*\n\s*/g, " "));
}

/** An error message on one line, controls escaped, cut to MAX_ERROR. */
export function safeError(message: string): string {
  return escapeControls(cut(message, MAX_ERROR).replace(/\s*\n\s*/g, " "));
}

/** Log text: tabs and newlines kept, every other control (ESC, CR, BEL, C1) escaped. */
export function safeLog(text: string): string {
  return escapeControls(text, { keepLayout: true });
}

/**
 * chmod(1) mode strings, as BuildKit's copy `modeStr` takes them (BSD setmode via
 * tonistiigi/dchapes-mode, with a umask of 0): an octal number ("0755", "4755") or symbolic
 * clauses ("u+x,g-w", "go=u-w", "=rw,+X", "a+rwx,o-t").
 */
import { BuildkitError } from "../errors.ts";

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISTXT = 0o1000;
const RWXU = 0o700;
const RWXG = 0o070;
const RWXO = 0o007;
const STANDARD = S_ISUID | S_ISGID | RWXU | RWXG | RWXO;
const ALL = 0xffff;

type Command =
  | { op: "+" | "-" | "X"; bits: number }
  | { op: "u" | "g" | "o"; bits: number; targets: number; set: boolean; clear: boolean };

const U = 1;
const G = 2;
const O = 4;

const whoBits: Readonly<Record<string, number>> = { a: STANDARD, u: S_ISUID | RWXU, g: S_ISGID | RWXG, o: RWXO };

function syntaxError(s: string): BuildkitError {
  return new BuildkitError("InvalidArgument", `invalid mode string ${JSON.stringify(s)}: invalid syntax`);
}

/** A parsed mode string; apply it to a file's current permission bits. */
export class ModeSet {
  readonly #commands: readonly Command[];

  constructor(commands: readonly Command[]) {
    this.#commands = commands;
  }

  /** The new permission bits (0o7777 range) for a file with `mode`; `X` looks at `isDir`. */
  apply(mode: number, isDir: boolean): number {
    const original = mode & 0o7777;
    let m = original;
    for (const c of this.#commands) {
      if ("targets" in c) m = copyBits(m, c);
      else if (c.op === "+") m |= c.bits;
      else if (c.op === "-") m &= ~c.bits;
      else if ((original & 0o111) !== 0 || isDir) m |= c.bits;
    }
    return m & 0o7777;
  }
}

/** "u", "g" or "o" as a source: copies (or clears) those bits into the target classes. */
function copyBits(mode: number, c: Extract<Command, { op: "u" | "g" | "o" }>): number {
  const value = c.op === "u" ? (mode & RWXU) >> 6 : c.op === "g" ? (mode & RWXG) >> 3 : mode & RWXO;
  let m = mode;
  const shifts: [number, number][] = [
    [U, 6],
    [G, 3],
    [O, 0],
  ];
  for (const [target, shift] of shifts) {
    if ((c.targets & target) === 0) continue;
    if (c.clear) m &= ~(((c.set ? RWXO : value) << shift) & c.bits);
    if (c.set) m |= (value << shift) & c.bits;
  }
  return m;
}

function addCommand(cmds: Command[], op: string, who: number, arg: number): void {
  if (op === "=") {
    cmds.push({ op: "-", bits: who !== 0 ? who : STANDARD });
    cmds.push({ op: "+", bits: (who !== 0 ? who : ALL) & arg });
  } else if (op === "+" || op === "-" || op === "X") {
    cmds.push({ op, bits: (who !== 0 ? who : ALL) & arg });
  } else if (op === "u" || op === "g" || op === "o") {
    const targets = who === 0 ? U | G | O : (who & 0o400 ? U : 0) | (who & 0o040 ? G : 0) | (who & 0o004 ? O : 0);
    const copyOp = String.fromCharCode(arg);
    const set = copyOp === "+" || copyOp === "=";
    const clear = copyOp === "-" || copyOp === "=";
    cmds.push({ op, bits: ALL, targets, set, clear });
  }
}

/** Parses an octal mode; throws InvalidArgument on digits past 7 or bits past 07777. */
function parseOctal(s: string): ModeSet {
  if (!/^[0-7]+$/.test(s)) throw syntaxError(s);
  const v = Number.parseInt(s, 8);
  if (v > 0x7fff || (v & ~(STANDARD | S_ISTXT)) !== 0) throw syntaxError(s);
  const cmds: Command[] = [];
  addCommand(cmds, "=", STANDARD | S_ISTXT, v);
  return new ModeSet(cmds);
}

/** Parser state: the string, the position in it, and the commands so far. */
interface Cursor {
  s: string;
  i: number;
  cmds: Command[];
  /** An "=" clause has emitted its commands (BSD setmode's equalopdone). */
  equalDone: boolean;
}

/** Parses the permission letters after an operator, emitting commands; stops at "," or end. */
function parsePerms(cur: Cursor, op: string, whoIn: number): void {
  const cmds = cur.cmds;
  let who = whoIn & ~S_ISTXT;
  let perm = 0;
  let permX = 0;
  for (;;) {
    const b = cur.s[cur.i] ?? "";
    if (b === "r") perm |= 0o444;
    else if (b === "w") perm |= 0o222;
    else if (b === "x") perm |= 0o111;
    else if (b === "X") permX = op === "+" ? 0o111 : permX;
    else if (b === "s") perm |= who === 0 || (who & ~RWXO) !== 0 ? S_ISUID | S_ISGID : 0;
    else if (b === "t") {
      if (who === 0 || (who & ~RWXO) !== 0) [who, perm] = [who | S_ISTXT, perm | S_ISTXT];
    } else if (b === "u" || b === "g" || b === "o") {
      if (perm !== 0) addCommand(cmds, op, who, perm);
      perm = 0;
      if (op === "=") cur.equalDone = true;
      if (permX !== 0) addCommand(cmds, "X", who, permX);
      permX = 0;
      addCommand(cmds, b, who, op.charCodeAt(0));
    } else {
      if (perm !== 0 || (op === "=" && !cur.equalDone)) {
        if (op === "=") cur.equalDone = true;
        addCommand(cmds, op, who, perm);
      }
      if (permX !== 0) addCommand(cmds, "X", who, permX);
      return;
    }
    cur.i++;
  }
}

/** Parses a symbolic mode string. */
function parseSymbolic(s: string): ModeSet {
  const cur: Cursor = { s, i: 0, cmds: [], equalDone: false };
  for (;;) {
    let who = 0;
    for (let bits = whoBits[cur.s[cur.i] ?? ""]; bits !== undefined; bits = whoBits[cur.s[cur.i] ?? ""]) {
      who |= bits;
      cur.i++;
    }
    for (;;) {
      const op = cur.s[cur.i++];
      if (op !== "+" && op !== "-" && op !== "=") throw syntaxError(s);
      if (op === "=") cur.equalDone = false;
      parsePerms(cur, op, who);
      if (cur.i >= s.length) return new ModeSet(cur.cmds);
      if (cur.s[cur.i] === ",") break;
    }
    cur.i++;
    if (cur.i >= s.length) throw syntaxError(s);
  }
}

/** Parses a chmod(1) mode string; throws an InvalidArgument BuildkitError when malformed. */
export function parseModeString(s: string): ModeSet {
  if (s === "") throw syntaxError(s);
  return /^[0-9]/.test(s) ? parseOctal(s) : parseSymbolic(s);
}

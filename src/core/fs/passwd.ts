// Parsing /etc/passwd and /etc/group, as runc's user package does: one entry a line, fields split
// on ":", blank and "#" lines skipped, entries without a name or with a bad id dropped. Reading
// the file (inside which root, sync or not) is the caller's.

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

const MAX_ID = 2 ** 32 - 2;

/** A decimal id in range, or undefined. */
export function parseId(s: string | undefined): number | undefined {
  if (s === undefined || !/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_ID ? n : undefined;
}

function colonLines(text: string): string[][] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => line.split(":"));
}

export function parsePasswd(text: string): PasswdEntry[] {
  return colonLines(text).flatMap(([name = "", , uid, gid]) => {
    const u = parseId(uid);
    const g = parseId(gid);
    return name !== "" && u !== undefined && g !== undefined ? [{ name, uid: u, gid: g }] : [];
  });
}

export function parseGroup(text: string): GroupEntry[] {
  return colonLines(text).flatMap(([name = "", , gid, members = ""]) => {
    const g = parseId(gid);
    return name !== "" && g !== undefined ? [{ name, gid: g, members: members.split(",").filter((m) => m !== "") }] : [];
  });
}

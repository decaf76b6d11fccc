/**
 * fsutil's wire messages (fsutil/types Stat and Packet) as the file-sync protocol code sees
 * them: every field present. The shape is the generated classes' (src/api/pb/session.js), so a
 * decoded message is one of these once {@link toPacket} has filled in absent fields.
 */
export enum PacketType {
  /** One entry's metadata; a packet without a stat ends the listing. */
  STAT = 0,
  /** The receiver asks for the data of file ID (the index of its STAT). */
  REQ = 1,
  /** A chunk of file ID; empty data ends that file. */
  DATA = 2,
  /** Done: the receiver says so first, the sender answers. */
  FIN = 3,
  /** data holds an error message; the stream is over. */
  ERR = 4,
}

export interface Stat {
  /** Relative, "/"-separated, clean. */
  path: string;
  /** Go's os.FileMode (see file-mode.ts). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Nanoseconds since the epoch (a float64 here: exact to within 256 ns). */
  modTime: number;
  /** A symlink's target, or for a regular file the earlier path it is a hard link to. */
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, Uint8Array>;
}

export interface Packet {
  type: PacketType;
  stat?: Stat | null;
  ID: number;
  data: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** The generated types' optional shape, as a decoder or another sender produces it. */
export interface PacketLike {
  type?: number | null;
  stat?: Partial<{ [K in keyof Stat]: Stat[K] | null }> | null;
  ID?: number | null;
  data?: Uint8Array | null;
}

/** Normalises a decoded packet: absent fields get proto3 defaults. */
export function toPacket(p: PacketLike): Packet {
  const packet: Packet = { type: p.type ?? PacketType.STAT, ID: p.ID ?? 0, data: p.data ?? EMPTY };
  if (p.stat) packet.stat = toStat(p.stat);
  return packet;
}

function toStat(s: NonNullable<PacketLike["stat"]>): Stat {
  return {
    path: s.path ?? "",
    mode: s.mode ?? 0,
    uid: s.uid ?? 0,
    gid: s.gid ?? 0,
    size: s.size ?? 0,
    modTime: s.modTime ?? 0,
    linkname: s.linkname ?? "",
    devmajor: s.devmajor ?? 0,
    devminor: s.devminor ?? 0,
    xattrs: s.xattrs ?? {},
  };
}

export function statPacket(stat?: Stat): Packet {
  return stat ? { type: PacketType.STAT, stat, ID: 0, data: EMPTY } : { type: PacketType.STAT, ID: 0, data: EMPTY };
}

export function controlPacket(type: PacketType.REQ | PacketType.FIN, ID = 0): Packet {
  return { type, ID, data: EMPTY };
}

export function dataPacket(ID: number, data: Uint8Array = EMPTY): Packet {
  return { type: PacketType.DATA, ID, data };
}

export function errorPacket(message: string): Packet {
  return { type: PacketType.ERR, ID: 0, data: new TextEncoder().encode(message) };
}

/**
 * The packet's encoded size in bytes, as Go's Packet.Size() counts it: what progress reports
 * and what "bytes transferred" means.
 */
export function packetSize(p: Packet): number {
  let n = 0;
  if (p.type !== 0) n += 1 + varintSize(p.type);
  if (p.stat) {
    const s = statSize(p.stat);
    n += 1 + varintSize(s) + s;
  }
  if (p.ID !== 0) n += 1 + varintSize(p.ID);
  if (p.data.length > 0) n += 1 + varintSize(p.data.length) + p.data.length;
  return n;
}

const textEncoder = new TextEncoder();

function bytesField(len: number): number {
  return len === 0 ? 0 : 1 + varintSize(len) + len;
}

function intField(v: number): number {
  return v === 0 ? 0 : 1 + varintSize(v);
}

function statSize(s: Stat): number {
  let n = bytesField(utf8Length(s.path)) + bytesField(utf8Length(s.linkname));
  n += intField(s.mode) + intField(s.uid) + intField(s.gid) + intField(s.size) + intField(s.modTime);
  n += intField(s.devmajor) + intField(s.devminor);
  for (const [key, value] of Object.entries(s.xattrs)) {
    const entry = 1 + varintSize(utf8Length(key)) + utf8Length(key) + 1 + varintSize(value.length) + value.length;
    n += 1 + varintSize(entry) + entry;
  }
  return n;
}

function utf8Length(s: string): number {
  return /^[\x00-\x7f]*$/.test(s) ? s.length : textEncoder.encode(s).length;
}

/** Bytes of a varint; negative int64 values take ten. */
function varintSize(v: number): number {
  if (v < 0) return 10;
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

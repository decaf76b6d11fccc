/**
 * IP addresses as Go's net package reads and prints them (net.ParseIP, IP.String): BuildKit's
 * frontend validates `add-hosts` with ParseIP and its LLB client writes each address back with
 * String(), so "::FFFF:10.0.0.1" is sent as "10.0.0.1" and "2001:0db8::0001" as "2001:db8::1".
 */

/** Go's net.ParseIP: the 16-byte form, or undefined when s is not an IPv4 or IPv6 address (zones are not). */
export function parseGoIP(s: string): Uint8Array | undefined {
  for (const ch of s) {
    if (ch === ".") return parseIPv4(s);
    if (ch === ":") return parseIPv6(s);
  }
  return undefined;
}

/** Go's IP.String for a 16-byte address. */
export function formatGoIP(ip: Uint8Array): string {
  if (isV4Mapped(ip)) return `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
  let e0 = -1;
  let e1 = -1;
  for (let i = 0; i < 16; i += 2) {
    let j = i;
    while (j < 16 && ip[j] === 0 && ip[j + 1] === 0) j += 2;
    if (j > i && j - i > e1 - e0) {
      e0 = i;
      e1 = j;
      i = j;
    }
  }
  if (e1 - e0 <= 2) e0 = e1 = -1;
  let out = "";
  for (let i = 0; i < 16; i += 2) {
    if (i === e0) {
      out += "::";
      i = e1;
      if (i >= 16) break;
    } else if (i > 0) out += ":";
    out += ((ip[i]! << 8) | ip[i + 1]!).toString(16);
  }
  return out;
}

function isV4Mapped(ip: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

const BIG = 0xffffff;

/** Leading decimal digits: [value, count], undefined when none or too big (Go's dtoi). */
function dtoi(s: string): [number, number] | undefined {
  let n = 0;
  let i = 0;
  for (; i < s.length && s[i]! >= "0" && s[i]! <= "9"; i++) {
    n = n * 10 + (s.charCodeAt(i) - 48);
    if (n >= BIG) return undefined;
  }
  return i === 0 ? undefined : [n, i];
}

/** Leading hex digits (Go's xtoi). */
function xtoi(s: string): [number, number] | undefined {
  let n = 0;
  let i = 0;
  for (; i < s.length; i++) {
    const d = parseInt(s[i]!, 16);
    if (Number.isNaN(d)) break;
    n = n * 16 + d;
    if (n >= BIG) return undefined;
  }
  return i === 0 ? undefined : [n, i];
}

function parseIPv4(s: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  let rest = s;
  for (let i = 0; i < 4; i++) {
    if (rest.length === 0) return undefined;
    if (i > 0) {
      if (rest[0] !== ".") return undefined;
      rest = rest.slice(1);
    }
    const r = dtoi(rest);
    if (!r || r[0] > 0xff) return undefined;
    if (r[1] > 1 && rest[0] === "0") return undefined; // leading zeroes
    out[12 + i] = r[0];
    rest = rest.slice(r[1]);
  }
  return rest.length === 0 ? out : undefined;
}

function parseIPv6(input: string): Uint8Array | undefined {
  const ip = new Uint8Array(16);
  let s = input;
  let ellipsis = -1;
  if (s.startsWith("::")) {
    ellipsis = 0;
    s = s.slice(2);
    if (s.length === 0) return ip;
  }
  let i = 0;
  while (i < 16) {
    const r = xtoi(s);
    if (!r || r[0] > 0xffff) return undefined;
    const [n, c] = r;
    if (c < s.length && s[c] === ".") {
      if (ellipsis < 0 && i !== 12) return undefined;
      if (i + 4 > 16) return undefined;
      const ip4 = parseIPv4(s);
      if (!ip4) return undefined;
      ip.set(ip4.subarray(12), i);
      s = "";
      i += 4;
      break;
    }
    ip[i] = n >> 8;
    ip[i + 1] = n & 0xff;
    i += 2;
    s = s.slice(c);
    if (s.length === 0) break;
    if (s[0] !== ":" || s.length === 1) return undefined;
    s = s.slice(1);
    if (s[0] === ":") {
      if (ellipsis >= 0) return undefined;
      ellipsis = i;
      s = s.slice(1);
      if (s.length === 0) break;
    }
  }
  if (s.length !== 0) return undefined;
  if (i < 16) {
    if (ellipsis < 0) return undefined;
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j]!;
    for (let j = ellipsis + n - 1; j >= ellipsis; j--) ip[j] = 0;
  } else if (ellipsis >= 0) return undefined;
  return ip;
}

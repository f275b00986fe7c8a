import net from 'node:net';

/** An address as a 128-bit number (IPv4 as its IPv4-mapped form) and its family. */
interface Parsed {
  readonly v: bigint;
  readonly v4: boolean;
}

function parseV4(s: string): bigint | null {
  const p = s.split('.');
  if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) return null;
  return p.reduce((a, x) => (a << 8n) | BigInt(Number(x)), 0n);
}

function parseV6(s: string): bigint | null {
  if (!net.isIPv6(s)) return null;
  let text = s.toLowerCase();
  // A trailing dotted quad (::ffff:1.2.3.4) is two groups.
  const dq = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dq) {
    const v4 = parseV4(dq[1]);
    if (v4 === null) return null;
    text = `${text.slice(0, -dq[1].length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === null ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return null;
  return groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n);
}

const MAPPED = 0xffffn << 32n;

/** Parses an IP literal (no brackets); null when it is not one. */
export function parseIp(s: string): Parsed | null {
  const v4 = parseV4(s);
  if (v4 !== null) return { v: MAPPED | v4, v4: true };
  const v6 = parseV6(s);
  return v6 === null ? null : { v: v6, v4: false };
}

const cidr6 = (text: string): [bigint, number] => {
  const [a, bits] = text.split('/');
  return [parseV6(a)!, Number(bits)];
};
const cidr4 = (text: string): [bigint, number] => {
  const [a, bits] = text.split('/');
  return [MAPPED | parseV4(a)!, 96 + Number(bits)];
};
const within = (v: bigint, [base, bits]: [bigint, number]) => bits === 0 || v >> BigInt(128 - bits) === base >> BigInt(128 - bits);

/** IPv4 ranges that are not global unicast (RFC 6890 and successors). */
const V4_NOT_GLOBAL = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
  '192.0.2.0/24', '192.31.196.0/24', '192.52.193.0/24', '192.88.99.0/24', '192.168.0.0/16', '192.175.48.0/24',
  '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
].map(cidr4);

/** IPv6 ranges inside 2000::/3 that are not global unicast. */
const V6_NOT_GLOBAL = ['2001::/23', '2001:db8::/32', '3fff::/20'].map(cidr6);
/** Forms that embed an IPv4 address: judged by it. */
const V6_EMBEDDING = [
  { range: cidr6('64:ff9b::/96'), v4: (v: bigint) => v & 0xffffffffn }, // NAT64
  { range: cidr6('2002::/16'), v4: (v: bigint) => (v >> 80n) & 0xffffffffn }, // 6to4
];

/**
 * Whether an address is global unicast: not loopback, private, link-local,
 * unspecified, CGNAT, multicast, documentation, benchmarking or reserved, also
 * when written as IPv4-mapped, NAT64 or 6to4.
 */
export function isGlobal(ip: string): boolean {
  const p = parseIp(ip);
  if (!p) return false;
  return globalValue(p.v);
}

function globalValue(v: bigint): boolean {
  if (v >> 32n === 0xffffn) return !V4_NOT_GLOBAL.some((r) => within(v, r));
  for (const e of V6_EMBEDDING) if (within(v, e.range)) return globalValue(MAPPED | e.v4(v));
  if (v >> 125n !== 1n) return false; // outside 2000::/3: ::, ::1, fc00::/7, fe80::/10, ff00::/8, 64:ff9b:1::/48…
  return !V6_NOT_GLOBAL.some((r) => within(v, r));
}

/** Operator exceptions: "host:port" (as written in URLs, [v6] in brackets) and CIDR ranges. */
export class AllowList {
  private readonly hostPorts = new Set<string>();
  private readonly ranges: [bigint, number][] = [];

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const e = raw.trim().toLowerCase();
      if (!e) continue;
      if (e.includes('/')) {
        const [a, bits] = e.split('/');
        const p = parseIp(a);
        const n = Number(bits);
        if (!p || !Number.isInteger(n) || n < 0 || n > (p.v4 ? 32 : 128)) throw new Error(`webhook allow entry "${raw}": expected a CIDR range such as 10.0.0.0/8`);
        this.ranges.push([p.v, p.v4 ? 96 + n : n]);
      } else {
        const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(e);
        if (!m) throw new Error(`webhook allow entry "${raw}": expected host:port or a CIDR range`);
        // The URL parser's spelling, so "127.1:80" and "127.0.0.1:80" are one entry.
        this.hostPorts.add(`${new URL(`http://${m[1]}`).hostname}:${Number(m[2])}`);
      }
    }
  }

  hostPort(hostname: string, port: number): boolean {
    return this.hostPorts.has(`${hostname.toLowerCase()}:${port}`);
  }

  address(ip: string): boolean {
    const p = parseIp(ip);
    return !!p && this.ranges.some((r) => within(p.v, r));
  }
}

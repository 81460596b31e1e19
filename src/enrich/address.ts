import ipaddr from 'ipaddr.js';

/**
 * What a `sourceIPAddress` value is, before any database is asked:
 * - `aws-service`: a service principal written in the field (`ec2.amazonaws.com`);
 * - `aws-internal`: the literal `AWS Internal` CloudTrail writes for calls AWS makes itself;
 * - `private`: RFC 1918, carrier-grade NAT, unique-local and link-local (a VPC, a VPN);
 * - `documentation`: the ranges reserved for examples (192.0.2.0/24, 198.51.100.0/24,
 *   203.0.113.0/24, 2001:db8::/32) — treated as internet addresses, since tests and
 *   examples use them that way;
 * - `special`: loopback, multicast, unspecified, benchmarking and other reserved ranges;
 * - `internet`: any other address;
 * - `unknown`: not an address at all (a host name, empty).
 */
export type AddressKind = 'internet' | 'documentation' | 'private' | 'aws-service' | 'aws-internal' | 'special' | 'unknown';

const DOCUMENTATION = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'].map((c) => ipaddr.parseCIDR(c));
const PRIVATE = new Set(['private', 'carrierGradeNat', 'uniqueLocal', 'linkLocal']);

/**
 * A dotted-quad IPv4 address as a number (0 … 2^32-1), or -1 when the text is not one.
 * The fast path for the common case: hundreds of thousands of distinct addresses are
 * enriched per run, and ipaddr.js's general parser costs several times more.
 */
export function ipv4Number(text: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255 || (digits === 2 && part < 10 && text.charCodeAt(i - 1) === 48)) return -1;
    } else if (c === 46 && digits > 0 && dots < 3) {
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else return -1;
  }
  return dots === 3 && digits > 0 ? value * 256 + part : -1;
}

const V4 = (a: number, b: number, c: number, d: number) => ((a * 256 + b) * 256 + c) * 256 + d;
/** IPv4 ranges by kind, as [first, last] numbers; anything else unicast is `internet`. */
const V4_RANGES: readonly [number, number, AddressKind][] = [
  [V4(10, 0, 0, 0), V4(10, 255, 255, 255), 'private'],
  [V4(172, 16, 0, 0), V4(172, 31, 255, 255), 'private'],
  [V4(192, 168, 0, 0), V4(192, 168, 255, 255), 'private'],
  [V4(100, 64, 0, 0), V4(100, 127, 255, 255), 'private'],
  [V4(169, 254, 0, 0), V4(169, 254, 255, 255), 'private'],
  [V4(192, 0, 2, 0), V4(192, 0, 2, 255), 'documentation'],
  [V4(198, 51, 100, 0), V4(198, 51, 100, 255), 'documentation'],
  [V4(203, 0, 113, 0), V4(203, 0, 113, 255), 'documentation'],
  [V4(0, 0, 0, 0), V4(0, 255, 255, 255), 'special'],
  [V4(127, 0, 0, 0), V4(127, 255, 255, 255), 'special'],
  [V4(192, 0, 0, 0), V4(192, 0, 0, 255), 'special'],
  [V4(192, 88, 99, 0), V4(192, 88, 99, 255), 'special'],
  [V4(198, 18, 0, 0), V4(198, 19, 255, 255), 'special'],
  [V4(224, 0, 0, 0), V4(255, 255, 255, 255), 'special'],
];

/** The kind of an IPv4 address given as a number. */
export function ipv4Kind(n: number): AddressKind {
  for (const [first, last, kind] of V4_RANGES) if (n >= first && n <= last) return kind;
  return 'internet';
}

/** Parses an address as CloudTrail writes it (IPv4, IPv6, IPv4-mapped IPv6), or null. */
export function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (!ipaddr.isValid(text)) return null;
  try {
    const parsed = ipaddr.parse(text);
    return parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed;
  } catch {
    return null;
  }
}

/** Classifies one `sourceIPAddress` value (see {@link AddressKind}). */
export function classifyAddress(text: string | null | undefined): AddressKind {
  if (!text) return 'unknown';
  if (text === 'AWS Internal') return 'aws-internal';
  const v4 = ipv4Number(text);
  if (v4 >= 0) return ipv4Kind(v4);
  if (/^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com(\.cn)?$/i.test(text)) return 'aws-service';
  const address = parseAddress(text);
  if (!address) return 'unknown';
  if (DOCUMENTATION.some(([net, bits]) => net.kind() === address.kind() && address.match(net, bits))) return 'documentation';
  const range = address.range();
  if (PRIVATE.has(range)) return 'private';
  return range === 'unicast' ? 'internet' : 'special';
}

/** True for the kinds that are somebody's network on the internet (where geography and ownership mean something). */
export function isExternal(kind: AddressKind): boolean {
  return kind === 'internet' || kind === 'documentation';
}

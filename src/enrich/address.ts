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

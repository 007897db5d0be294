import { BlockList, isIP } from 'node:net';

/**
 * Which network addresses a back-channel request may reach. Private, loopback, link-local and
 * other non-public ranges are refused unless an entry of the allow-list (IP, CIDR or host name)
 * permits them. Used at registration and, by the sender, at connect time.
 */
const NON_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
// IPv6 transition ranges carry an IPv4 address inside (IPv4-compatible ::a.b.c.d, NAT64, 6to4,
// Teredo): through a translator or relay they can reach any IPv4 host, private ones included.
// They are refused as a whole rather than judged by the embedded IPv4: a back-channel endpoint
// has no reason to be reached that way, and a whole-range rule cannot be fooled by an encoding.
// BACKCHANNEL_ALLOWED_HOSTS can still open a specific address.
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback and IPv4-compatible (deprecated, RFC 4291)
  ['64:ff9b::', 96], // NAT64 well-known prefix (RFC 6052)
  ['64:ff9b:1::', 48], // NAT64 local-use prefix (RFC 8215)
  ['2002::', 16], // 6to4 (RFC 3056)
  ['2001::', 32], // Teredo (RFC 4380)
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

/** Host names that always mean "this machine or its private network". */
const PRIVATE_NAMES = /(^|\.)(localhost|local|internal|localdomain|home\.arpa)$/i;

/** `[::1]` → `::1`. IPv4-mapped IPv6 addresses need no unmapping: BlockList matches them against IPv4 rules. */
function stripBrackets(address: string): string {
  return address.replace(/^\[|\]$/g, '');
}

export function isNonPublicAddress(address: string): boolean {
  const ip = stripBrackets(address);
  const family = isIP(ip);
  if (family === 0) return false;
  return NON_PUBLIC.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

export class AddressPolicy {
  private readonly allowedIps = new BlockList();
  private readonly allowedNames = new Set<string>();

  constructor(allowList: string[]) {
    for (const entry of allowList) {
      const [addr, prefix] = entry.split('/');
      const family = isIP(addr);
      if (family && prefix !== undefined) {
        this.allowedIps.addSubnet(addr, Number(prefix), family === 4 ? 'ipv4' : 'ipv6');
      } else if (family) {
        this.allowedIps.addAddress(addr, family === 4 ? 'ipv4' : 'ipv6');
      } else {
        this.allowedNames.add(entry.toLowerCase());
      }
    }
  }

  /** The host name itself is allow-listed (e.g. `receiver.internal`). */
  isAllowedName(hostname: string): boolean {
    return this.allowedNames.has(hostname.toLowerCase());
  }

  /** May a request go to this resolved address? */
  isAllowedAddress(address: string): boolean {
    const ip = stripBrackets(address);
    const family = isIP(ip);
    if (family === 0) return false;
    if (this.allowedIps.check(ip, family === 4 ? 'ipv4' : 'ipv6')) return true;
    return !isNonPublicAddress(ip);
  }

  /** A name that is private by convention (localhost, *.internal, ...) and not allow-listed. */
  isPrivateName(hostname: string): boolean {
    return PRIVATE_NAMES.test(hostname) && !this.isAllowedName(hostname);
  }
}

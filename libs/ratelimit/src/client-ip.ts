import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key a client address is limited under: an IPv4 address as it is (IPv4-mapped IPv6 too), an
 * IPv6 address by its /64 — one subscriber usually holds a whole /64, so per-address limits
 * would be trivial to step around. Anything else (no address at all) shares one key.
 */
export function clientIpKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(ip)) return ip;
  const bare = ip.split('%')[0];
  if (!isIPv6(bare)) return 'unknown';
  return `${ipv6Groups(bare).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, as lower-case hex without leading zeros. */
function ipv6Groups(ip: string): string[] {
  const width = (part: string) => (part ? part.split(':').reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0) : 0);
  const [head, tail] = ip.split('::');
  const groups =
    tail === undefined
      ? head.split(':')
      : [
          ...(head ? head.split(':') : []),
          ...Array<string>(8 - width(head) - width(tail)).fill('0'),
          ...(tail ? tail.split(':') : []),
        ];
  return groups.map((g) => (g.includes('.') ? g : parseInt(g, 16).toString(16)));
}

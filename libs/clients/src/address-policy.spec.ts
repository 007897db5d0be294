import { AddressPolicy, isNonPublicAddress } from './address-policy';
import { backchannelUriProblem } from './uri-policy';

const PROD = { isLocal: false };

/** Addresses of the IPv6 transition ranges, each embedding a private or loopback IPv4 or a public one. */
const TRANSITION = [
  ['IPv4-compatible loopback', '::127.0.0.1'],
  ['IPv4-compatible loopback, hex', '::7f00:1'],
  ['IPv4-compatible private', '::10.0.0.1'],
  ['IPv4-compatible public', '::8.8.8.8'],
  ['NAT64 well-known prefix, metadata', '64:ff9b::169.254.169.254'],
  ['NAT64 well-known prefix, public', '64:ff9b::808:808'],
  ['NAT64 local-use prefix', '64:ff9b:1::a00:1'],
  ['NAT64 local-use prefix, end of range', '64:ff9b:1:ffff:ffff:ffff:ffff:ffff'],
  ['6to4 of loopback', '2002:7f00:1::1'],
  ['6to4 of a private address', '2002:c0a8:101::'],
  ['6to4 of a public address', '2002:808:808::1'],
  ['Teredo', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
  ['Teredo, end of range', '2001:0:ffff:ffff:ffff:ffff:ffff:ffff'],
] as const;

describe('address policy: IPv6 transition ranges', () => {
  const strict = new AddressPolicy([]);

  it.each(TRANSITION)('refuses %s (%s)', (_what, ip) => {
    expect(isNonPublicAddress(ip)).toBe(true);
    expect(strict.isAllowedAddress(ip)).toBe(false);
    expect(strict.isAllowedAddress(`[${ip}]`)).toBe(false);
  });

  it.each([
    ['IPv4-mapped loopback', '::ffff:127.0.0.1'],
    ['IPv4-mapped loopback, hex', '::ffff:7f00:1'],
    ['IPv4-mapped metadata', '::ffff:169.254.169.254'],
  ])('still refuses %s (%s) by its IPv4 rule', (_what, ip) => expect(strict.isAllowedAddress(ip)).toBe(false));

  it.each([
    ['a public IPv6 address', '2606:4700:4700::1111'],
    ['the address just below 6to4', '2001:ffff::1'],
    ['the address just after Teredo', '2001:1::1'],
    ['the address just after NAT64 local use', '64:ff9b:2::1'],
    ['an IPv4-mapped public address', '::ffff:8.8.8.8'],
  ])('keeps %s (%s) public', (_what, ip) => expect(strict.isAllowedAddress(ip)).toBe(true));

  it('opens a transition address only through the allow-list', () => {
    expect(new AddressPolicy(['2002:7f00:1::1']).isAllowedAddress('2002:7f00:1::1')).toBe(true);
    expect(new AddressPolicy(['2002::/16']).isAllowedAddress('2002:c0a8:101::')).toBe(true);
    expect(new AddressPolicy(['127.0.0.1']).isAllowedAddress('::127.0.0.1')).toBe(false);
  });

  it.each(TRANSITION)('refuses a back-channel URI with the literal %s at registration', async (_what, ip) => {
    expect(await backchannelUriProblem(`https://[${ip}]/logout`, PROD, strict)).toContain('private');
  });

  it.each(TRANSITION)('refuses a back-channel name that resolves to %s at registration', async (_what, ip) => {
    const problem = await backchannelUriProblem('https://rp.example.com/logout', PROD, strict, () => Promise.resolve([ip]));
    expect(problem).toContain(ip);
  });
});

import { AddressPolicy, isNonPublicAddress } from './address-policy';
import { backchannelUriProblem, originProblem, uriProblem } from './uri-policy';

const PROD = { isLocal: false };
const LOCAL = { isLocal: true };

describe('uriProblem', () => {
  it.each([
    'https://app.example.com/callback',
    'https://app.example.com:8443/cb?tenant=1',
    'http://127.0.0.1:3000/cb',
    'http://localhost:3000/cb',
    'http://[::1]:3000/cb',
  ])('accepts %s in production', (uri) => expect(uriProblem(uri, PROD)).toBeNull());

  it.each([
    ['/relative', 'absolute'],
    ['app.example.com/cb', 'absolute'],
    ['https://app.example.com/cb#frag', 'fragment'],
    ['javascript:alert(1)', 'scheme javascript'],
    ['JAVASCRIPT:alert(1)', 'scheme javascript'],
    ['data:text/html,<script>', 'scheme data'],
    ['file:///etc/passwd', 'scheme file'],
    ['ftp://app.example.com/', 'scheme ftp'],
    ['https://user:pass@app.example.com/', 'user information'],
    ['https://app.example.com@evil.com/', 'user information'],
    ['https://app.example.com\\@evil.com/', 'backslash'],
    [' https://app.example.com/', 'whitespace'],
    ['https://app.example.com/\ncb', 'whitespace'],
    ['https:/app.example.com/cb', 'authority'],
    ['http://app.example.com/cb', 'https'],
    ['', 'non-empty'],
    [`https://app.example.com/${'a'.repeat(2100)}`, 'at most'],
  ])('refuses %j', (uri, expected) => expect(uriProblem(uri, PROD)).toContain(expected));

  it('allows plain http to any host in local development only', () => {
    expect(uriProblem('http://app.example.com/cb', LOCAL)).toBeNull();
    expect(uriProblem('http://app.example.com/cb', PROD)).not.toBeNull();
  });
});

describe('originProblem', () => {
  it('accepts a bare origin and refuses anything more', () => {
    expect(originProblem('https://app.example.com', PROD)).toBeNull();
    expect(originProblem('https://app.example.com:8443', PROD)).toBeNull();
    expect(originProblem('https://app.example.com/path', PROD)).toContain('origin');
    expect(originProblem('https://app.example.com?x=1', PROD)).toContain('origin');
  });
});

describe('address policy', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '0.0.0.0',
    '100.64.0.1',
    '::1',
    'fe80::1',
    'fd00::1',
    '::ffff:10.0.0.1',
    '::',
    '224.0.0.1',
  ])('%s is not public', (ip) => expect(isNonPublicAddress(ip)).toBe(true));
  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111'])('%s is public', (ip) =>
    expect(isNonPublicAddress(ip)).toBe(false),
  );

  it('lets the allow-list open single addresses, ranges and names', () => {
    const policy = new AddressPolicy(['127.0.0.1', '10.20.0.0/16', 'receiver.internal']);
    expect(policy.isAllowedAddress('127.0.0.1')).toBe(true);
    expect(policy.isAllowedAddress('127.0.0.2')).toBe(false);
    expect(policy.isAllowedAddress('10.20.5.5')).toBe(true);
    expect(policy.isAllowedAddress('10.21.0.1')).toBe(false);
    expect(policy.isAllowedName('receiver.internal')).toBe(true);
    expect(policy.isPrivateName('other.internal')).toBe(true);
  });
});

describe('backchannelUriProblem', () => {
  const none = new AddressPolicy([]);
  const resolveTo =
    (...addresses: string[]) =>
    () =>
      Promise.resolve(addresses);

  it('refuses private literals and names that resolve privately', async () => {
    expect(await backchannelUriProblem('https://10.0.0.1/l', PROD, none)).toContain('private');
    expect(await backchannelUriProblem('https://[fe80::1]/l', PROD, none)).toContain('private');
    expect(await backchannelUriProblem('https://localhost/l', PROD, none)).toContain('private');
    expect(
      await backchannelUriProblem('https://rebind.example.com/l', PROD, none, resolveTo('93.184.216.34', '127.0.0.1')),
    ).toContain('127.0.0.1');
  });

  it('accepts public names, and names that do not resolve yet (checked again at connect time)', async () => {
    expect(await backchannelUriProblem('https://rp.example.com/l', PROD, none, resolveTo('93.184.216.34'))).toBeNull();
    expect(
      await backchannelUriProblem('https://rp.example.com/l', PROD, none, () => Promise.reject(new Error('ENOTFOUND'))),
    ).toBeNull();
  });

  it('accepts allow-listed private targets', async () => {
    const tests = new AddressPolicy(['127.0.0.1']);
    expect(await backchannelUriProblem('http://127.0.0.1:4000/l', PROD, tests)).toBeNull();
    expect(await backchannelUriProblem('http://127.0.0.2:4000/l', PROD, tests)).not.toBeNull();
  });
});

import { ConfigError, parseConfig } from './config';
import { SETTINGS } from './table';

const PROD_SECRETS = {
  NODE_ENV: 'production',
  IDENTITY_ISSUER: 'https://id.example.com',
  API_PUBLIC_URL: 'https://api.example.com',
  COOKIE_KEYS: 'k'.repeat(40),
  KEY_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
  TOKEN_HASH_KEY: 't'.repeat(40),
};

function problems(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('parseConfig', () => {
  it('starts in local development with no variables at all', () => {
    const c = parseConfig({});
    expect(c.isLocal).toBe(true);
    expect(c.identity.issuer).toBe('http://localhost:4000');
    expect(c.bootstrap.clientSecret).toBeDefined();
  });

  it('requires every secret in production, one line per missing variable', () => {
    const p = problems({ NODE_ENV: 'production' });
    for (const name of ['IDENTITY_ISSUER', 'API_PUBLIC_URL', 'COOKIE_KEYS', 'KEY_ENCRYPTION_KEY', 'TOKEN_HASH_KEY']) {
      expect(p.filter((line) => line.startsWith(`${name}:`))).toHaveLength(1);
    }
  });

  it('has no built-in bootstrap secret in production', () => {
    expect(parseConfig(PROD_SECRETS).bootstrap.clientSecret).toBeUndefined();
    expect(parseConfig(PROD_SECRETS).isLocal).toBe(false);
  });

  it.each([
    ['API_PORT', 'abc', 'must be an integer'],
    ['API_PORT', '70000', 'between 0 and 65535'],
    ['DATABASE_URL', 'mysql://x', 'must use postgres'],
    ['REDIS_URL', 'not a url', 'absolute URL'],
    ['COOKIE_KEYS', 'short', 'at least 32 characters'],
    ['KEY_ENCRYPTION_KEY', 'dG9vLXNob3J0', '32 random bytes'],
    ['TOKEN_HASH_KEY', 'short', 'at least 32 characters'],
    ['TOKEN_HASH_KEY', 'k'.repeat(40), 'must not reuse a key of COOKIE_KEYS'],
    ['LOG_LEVEL', 'loud', 'must be one of'],
    ['TRUST_PROXY', 'maybe', 'true, false or a number of proxies'],
    ['DELIVERY_TIMEOUT_MS', '50', 'between 100 and 60000'],
    ['DELIVERY_BACKOFF_BASE_MS', '99999999', 'between'],
    ['DELIVERY_BACKOFF_MAX_MS', '1000', 'not be smaller than DELIVERY_BACKOFF_BASE_MS'],
    ['LOGIN_LOCKOUT_MAX_SECONDS', '30', 'not be smaller than LOGIN_LOCKOUT_SECONDS'],
    ['DELIVERY_MAX_ATTEMPTS', '101', 'between 1 and 100'],
    ['LOGOUT_REDIRECT_WAIT_FOR', 'some', 'must be one of returning_client, all'],
  ])('names %s when its value %j is wrong', (name, value, expected) => {
    const p = problems({ ...PROD_SECRETS, [name]: value });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(new RegExp(`^${name}: .*${expected}`));
  });

  it('takes the issuer and the public api URL for the variables that default to them', () => {
    const c = parseConfig({ ...PROD_SECRETS, IDENTITY_ISSUER: 'https://id.example.com/' });
    expect(c.identity.internalUrl).toBe('https://id.example.com');
    expect(c.api.audience).toBe('https://api.example.com');
    expect(parseConfig({ ...PROD_SECRETS, API_AUDIENCE: 'urn:slo:api' }).api.audience).toBe('urn:slo:api');
  });

  it('never echoes a secret value in its error', () => {
    const p = problems({ ...PROD_SECRETS, KEY_ENCRYPTION_KEY: 'super-secret-but-wrong' });
    expect(p[0]).not.toContain('super-secret-but-wrong');
  });

  it('describes every variable (the source of .env.example)', () => {
    for (const s of SETTINGS) expect(s.description.length).toBeGreaterThan(10);
  });
});

describe('REDIS_CLUSTER_NODES', () => {
  it('is unset by default: the single Redis of REDIS_URL', () => {
    expect(parseConfig({}).redis.clusterNodes).toBeUndefined();
  });

  it('takes host:port members, names, IPv4 and bracketed IPv6, spaces around commas', () => {
    expect(parseConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7100, redis-1.internal:7101,[::1]:7102' }).redis.clusterNodes).toEqual([
      { host: '127.0.0.1', port: 7100 },
      { host: 'redis-1.internal', port: 7101 },
      { host: '::1', port: 7102 },
    ]);
  });

  it.each([
    ['127.0.0.1', '"127.0.0.1" is not host:port'],
    ['127.0.0.1:7100,', '"" is not host:port'],
    ['127.0.0.1:7100,,127.0.0.1:7101', '"" is not host:port'],
    ['127.0.0.1:0', '"127.0.0.1:0" has a port outside 1-65535'],
    ['127.0.0.1:65536', '"127.0.0.1:65536" has a port outside 1-65535'],
    ['127.0.0.1:07100', '"127.0.0.1:07100" has a port outside 1-65535'],
    ['127.0.0.1:7100,127.0.0.1:-1', '"127.0.0.1:-1" is not host:port'],
    ['127.0.0.1:7100,127.0.0.1:7100', '"127.0.0.1:7100" is listed twice'],
    ['a.example:7100,A.EXAMPLE:7100', '"A.EXAMPLE:7100" is listed twice'],
    ['redis://127.0.0.1:7100', '"redis://127.0.0.1:7100" is not host:port'],
    ['::1:7100', '"::1:7100" is not host:port'],
    ['[nothost]:7100', '"\\[nothost\\]:7100" is not host:port'],
    ['bad_host:7100', '"bad_host:7100" is not host:port'],
    ['-x:7100', '"-x:7100" is not host:port'],
    ['host:7100\nother:7101', '"host:7100\\\\nother:7101" is not host:port'],
    ['h\u0000:7100', '"h\\\\u0000:7100" is not host:port'],
  ])('refuses %j in one line naming the member', (value, expected) => {
    const p = problems({ ...PROD_SECRETS, REDIS_CLUSTER_NODES: value });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(new RegExp(`^REDIS_CLUSTER_NODES: member ${expected}`));
  });
});

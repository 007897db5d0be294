import { base64Key, int, list, str, url } from '../parsers';
import type { Setting } from '../setting';

const DEV_ONLY = 'development and test only';

/** The identity service: URLs, secrets, lifetimes, the bootstrap operator client, signing keys. */
export const IDENTITY_SETTINGS = [
  {
    env: 'IDENTITY_ISSUER',
    path: 'identity.issuer',
    description: 'public issuer URL of the identity service (no trailing slash)',
    devDefault: 'http://localhost:4000',
    parse: url('http:', 'https:'),
  },
  {
    env: 'IDENTITY_INTERNAL_URL',
    path: 'identity.internalUrl',
    description: 'URL the api and worker use to reach the identity service (defaults to the issuer)',
    defaultsTo: 'IDENTITY_ISSUER',
    parse: url('http:', 'https:'),
  },
  {
    env: 'IDENTITY_PORT',
    path: 'identity.port',
    description: 'port of the identity service',
    default: '4000',
    parse: int(0, 65535),
  },
  {
    env: 'COOKIE_KEYS',
    path: 'identity.cookieKeys',
    description: `comma-separated keys (32+ characters each) signing identity cookies; first one signs. Built-in value for ${DEV_ONLY}`,
    devDefault: 'local-development-cookie-key-0000000000',
    parse: list(str({ minLength: 32 }), { min: 1 }),
  },
  {
    env: 'KEY_ENCRYPTION_KEY',
    path: 'identity.keyEncryptionKey',
    description: `32 random bytes, base64, encrypting private signing keys at rest. Built-in value for ${DEV_ONLY}`,
    devDefault: 'bG9jYWwtZGV2ZWxvcG1lbnQta2V5LWVuY3J5cHQta2U=',
    parse: base64Key(32),
  },
  {
    env: 'TOKEN_HASH_KEY',
    path: 'identity.tokenHashKey',
    description: `secret (32+ characters) keying the HMAC under which tokens, codes and session ids are stored; changing it ends every session and token. Its own value, not another key's. Built-in value for ${DEV_ONLY}`,
    devDefault: 'local-development-token-hash-key-00000000',
    parse: str({ minLength: 32 }),
  },
  {
    env: 'BOOTSTRAP_ADMIN_CLIENT_ID',
    path: 'bootstrap.clientId',
    description: 'client_id of the operator client created on first start',
    default: 'slo-admin',
    parse: str({ minLength: 3 }),
  },
  {
    env: 'BOOTSTRAP_ADMIN_CLIENT_SECRET',
    path: 'bootstrap.clientSecret',
    description: `secret of the bootstrap operator client (24+ characters); unset in production means no bootstrap client (use npm run cli -- create-admin). Built-in value for ${DEV_ONLY}`,
    devDefault: 'local-admin-secret-change-me',
    optional: true,
    parse: str({ minLength: 24 }),
  },
  {
    env: 'SESSION_TTL_SECONDS',
    path: 'identity.sessionTtlSeconds',
    description: 'absolute lifetime of an identity session',
    default: '1209600',
    parse: int(60, 31536000),
  },
  {
    env: 'ACCESS_TOKEN_TTL_SECONDS',
    path: 'identity.accessTokenTtlSeconds',
    description: 'lifetime of access tokens, including server tokens',
    default: '3600',
    parse: int(60, 86400),
  },
  {
    env: 'SDK_ASSETS_DIR',
    path: 'identity.sdkDir',
    description:
      'directory of the built browser SDK (npm run build:sdk) that identity serves at /sdk/; relative to the working directory',
    default: 'dist/sdk',
    parse: str({ minLength: 1 }),
  },
  {
    env: 'KEY_PUBLISH_DELAY_SECONDS',
    path: 'keys.publishDelaySeconds',
    description: 'after a key rotation, how long the new signing key is published before it signs',
    default: '3600',
    parse: int(1, 30 * 86400),
  },
  {
    env: 'KEY_RETIRED_GRACE_SECONDS',
    path: 'keys.retiredGraceSeconds',
    description: 'how long a retired signing key stays published for verification',
    default: '86400',
    parse: int(1, 365 * 86400),
  },
  {
    env: 'KEY_RELOAD_SECONDS',
    path: 'keys.reloadSeconds',
    description: 'how often identity re-reads its signing keys (a rotation reaches every instance within this)',
    default: '30',
    parse: int(1, 3600),
  },
] as const satisfies readonly Setting[];

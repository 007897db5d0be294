import { int, list, proxyHops, str, url } from '../parsers';
import type { Setting } from '../setting';

/** The api and worker HTTP servers, and what every HTTP surface shares (proxies, bodies, metrics). */
export const HTTP_SETTINGS = [
  { env: 'API_PORT', path: 'api.port', description: 'port of the platform api', default: '4001', parse: int(0, 65535) },
  {
    env: 'WORKER_PORT',
    path: 'worker.port',
    description: 'port of the worker (health only)',
    default: '4002',
    parse: int(0, 65535),
  },
  {
    env: 'API_PUBLIC_URL',
    path: 'api.publicUrl',
    description: 'public URL of the platform api',
    devDefault: 'http://localhost:4001',
    parse: url('http:', 'https:'),
  },
  {
    env: 'API_AUDIENCE',
    path: 'api.audience',
    description: 'resource indicator (audience) of server tokens for the api; defaults to API_PUBLIC_URL',
    defaultsTo: 'API_PUBLIC_URL',
    parse: url('http:', 'https:', 'urn:'),
  },
  {
    env: 'BACKCHANNEL_ALLOWED_HOSTS',
    path: 'security.backchannelAllowedHosts',
    description:
      'comma-separated IPs, CIDR ranges or host names that back-channel URIs may point at although private (tests: 127.0.0.1)',
    default: '',
    parse: list(str({ minLength: 1 })),
  },
  {
    env: 'TRUST_PROXY',
    path: 'security.trustProxy',
    description:
      'how many proxies in front of the apps to trust for X-Forwarded-* headers: false, true (one: a TLS-terminating load balancer) or a count; the client address is the one the outermost trusted proxy saw, so entries a client forges in X-Forwarded-For are ignored',
    default: 'false',
    parse: proxyHops,
  },
  {
    env: 'METRICS_TOKEN',
    path: 'security.metricsToken',
    description:
      'bearer token that GET /metrics of the api and the worker requires (Authorization: Bearer <token>, 32+ characters); unset: /metrics is refused in production and open in development and test',
    optional: true,
    parse: str({ minLength: 32 }),
  },
  {
    env: 'HTTP_BODY_LIMIT_BYTES',
    path: 'http.bodyLimitBytes',
    description: 'largest accepted JSON or form body',
    default: '65536',
    parse: int(1024, 10 * 1024 * 1024),
  },
] as const satisfies readonly Setting[];

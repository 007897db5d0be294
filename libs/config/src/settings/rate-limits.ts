import { int } from '../parsers';
import type { Setting } from '../setting';

/** Sign-in lockouts and the limits on failed authentications and on ingested logout events. */
export const RATE_LIMIT_SETTINGS = [
  {
    env: 'LOGIN_MAX_CONSECUTIVE_FAILURES',
    path: 'rateLimits.loginMaxConsecutiveFailures',
    description:
      'wrong passwords for one e-mail address from one client IP before that pair is locked out (a successful sign-in resets the count)',
    default: '5',
    parse: int(1, 1000),
  },
  {
    env: 'LOGIN_LOCKOUT_SECONDS',
    path: 'rateLimits.loginLockoutSeconds',
    description:
      'first lockout of an e-mail address from one client IP; each further lockout within LOGIN_FAILURE_WINDOW_SECONDS doubles it',
    default: '60',
    parse: int(1, 86400),
  },
  {
    env: 'LOGIN_LOCKOUT_MAX_SECONDS',
    path: 'rateLimits.loginLockoutMaxSeconds',
    description: 'longest lockout of an e-mail address from one client IP (the doubling stops here)',
    default: '3600',
    parse: int(1, 30 * 86400),
  },
  {
    env: 'LOGIN_FAILURE_WINDOW_SECONDS',
    path: 'rateLimits.loginFailureWindowSeconds',
    description: 'how long failed sign-ins and lockouts of an e-mail address from one client IP are remembered',
    default: '86400',
    parse: int(60, 365 * 86400),
  },
  {
    env: 'LOGIN_MAX_FAILURES_PER_IP_PER_DAY',
    path: 'rateLimits.loginMaxFailuresPerIpPerDay',
    description:
      'wrong sign-ins from one client IP in a day, whatever the e-mail addresses; then that IP may not sign in for a day',
    default: '100',
    parse: int(1, 1000000),
  },
  {
    env: 'CLIENT_AUTH_MAX_FAILURES',
    path: 'rateLimits.clientAuthMaxFailures',
    description:
      'failed client authentications (wrong secret at /token or the queue dashboard) of one client_id before it is refused with 429, even with the right secret, until CLIENT_AUTH_WINDOW_SECONDS pass',
    default: '10',
    parse: int(1, 100000),
  },
  {
    env: 'CLIENT_AUTH_WINDOW_SECONDS',
    path: 'rateLimits.clientAuthWindowSeconds',
    description: 'window of CLIENT_AUTH_MAX_FAILURES, counted from the first failure',
    default: '900',
    parse: int(1, 86400),
  },
  {
    env: 'BEARER_AUTH_MAX_FAILURES_PER_IP',
    path: 'rateLimits.bearerAuthMaxFailuresPerIp',
    description:
      'api requests with a bad server token from one client IP before that IP is refused with 429 until BEARER_AUTH_WINDOW_SECONDS pass',
    default: '50',
    parse: int(1, 1000000),
  },
  {
    env: 'BEARER_AUTH_WINDOW_SECONDS',
    path: 'rateLimits.bearerAuthWindowSeconds',
    description: 'window of BEARER_AUTH_MAX_FAILURES_PER_IP, counted from the first failure',
    default: '900',
    parse: int(1, 86400),
  },
  {
    env: 'INGEST_MAX_EVENTS_PER_MINUTE',
    path: 'rateLimits.ingestMaxEventsPerMinute',
    description: 'logout events one emitting client may post to /v1/logout-events per minute; more answer 429',
    default: '600',
    parse: int(1, 1000000),
  },
] as const satisfies readonly Setting[];

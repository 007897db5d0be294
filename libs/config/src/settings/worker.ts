import { int, oneOf } from '../parsers';
import type { Setting } from '../setting';

/** The worker's other schedules, and how logouts end for the user (redirect wait, session expiry). */
export const WORKER_SETTINGS = [
  {
    env: 'PURGE_INTERVAL_SECONDS',
    path: 'worker.purgeIntervalSeconds',
    description:
      "how often the worker deletes expired provider state (sessions, codes, tokens), drops months of deliveries past DELIVERY_RETENTION_DAYS and creates the coming months' partitions",
    default: '300',
    parse: int(5, 86400),
  },
  {
    env: 'SESSION_EXPIRY_SWEEP_SECONDS',
    path: 'logout.expirySweepSeconds',
    description: 'how often the worker records session_expired logouts for identity sessions that reached their lifetime',
    default: '60',
    parse: int(1, 86400),
  },
  {
    env: 'LOGOUT_REDIRECT_WAIT_MS',
    path: 'logout.redirectWaitMs',
    description:
      'how long a logout redirect (GET /logout, end_session) waits for the back-channel deliveries of that logout (LOGOUT_REDIRECT_WAIT_FOR); the redirect happens when the budget runs out, whatever happened; 0 redirects at once',
    default: '1000',
    parse: int(0, 30000),
  },
  {
    env: 'LOGOUT_REDIRECT_WAIT_FOR',
    path: 'logout.redirectWaitFor',
    description:
      'what a logout redirect waits for: returning_client (the delivery to the application the user is sent back to) or all (every participant)',
    default: 'returning_client',
    parse: oneOf('returning_client', 'all'),
  },
] as const satisfies readonly Setting[];

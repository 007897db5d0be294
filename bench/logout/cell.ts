import { createHash, randomBytes } from 'node:crypto';
import { ReceiverPool } from '../receivers';

/** One back-channel notification the bench waits for: this client, told about this session. */
export interface Expected {
  clientId: string;
  sid: string;
}

/** What a wait for one logout's notifications saw. */
interface Arrivals {
  /** clientId → arrival time (performance.now() of this process) of its first POST for the sid. */
  at: Map<string, number>;
  /** The clients that were still not told when the deadline passed. */
  missing: string[];
}

/**
 * The loopback back-channel endpoints of a cell (bench/receivers.ts): receipts keyed by
 * (client, sid), timed with performance.now(), the clock the logout requests are timed with.
 */
export function startReceivers(count: number): Promise<ReceiverPool> {
  return ReceiverPool.start(count, { claim: 'sid', clock: () => performance.now() });
}

/** Waits until every expected notification arrived, or until `deadline` (performance.now() time). */
async function waitForArrivals(receivers: ReceiverPool, expected: Expected[], deadline: number): Promise<Arrivals> {
  const keyOf = (e: Expected) => ReceiverPool.key(e.clientId, e.sid);
  const missing = new Set(await receivers.waitFor(expected.map(keyOf), deadline));
  const at = new Map<string, number>();
  for (const e of expected) {
    const r = receivers.receipts.get(keyOf(e));
    if (r) at.set(e.clientId, r.first);
  }
  return { at, missing: expected.filter((e) => missing.has(keyOf(e))).map((e) => e.clientId) };
}

export type Impl = 'ours' | 'peer';
/** ours: LOGOUT_REDIRECT_WAIT_MS=0 (`off`) or unset (`default`); the peer always notifies inside the request. */
export type WaitMode = 'off' | 'default' | 'inline';

export interface CellSpec {
  impl: Impl;
  /** Healthy participating clients, client 1 being the one the user logs out from and returns to. */
  n: number;
  /** One more participating client whose back-channel endpoint accepts connections and never answers. */
  hanging: boolean;
  wait: WaitMode;
}

export interface LogoutSample {
  /** Request start → response headers, ms. */
  answerMs: number;
  /** The answer was the expected 303 to the registered URI. */
  answerOk: boolean;
  answerProblem?: string;
  /** Request start → the last of the N healthy receivers got its POST for the session; Infinity if one never did. */
  lastNotifyMs: number;
  /** Healthy clients not told within the deadline. */
  missing: string[];
  /** Request start → client 1 (the app the user returns to) got its POST; Infinity if it never did. */
  returningNotifyMs: number;
  /** Client 1 had its POST when the answer's headers arrived. */
  returningToldBeforeAnswer: boolean;
}

export interface CellResult {
  spec: CellSpec;
  samples: LogoutSample[];
  /** Connections the hanging endpoint accepted during the cell (warm-up included); null without one. */
  hangingConnections: number | null;
  /** What the effective wait setting was, as read from the configuration the app got. */
  waitNote: string;
  duplicates: number;
  /** Machine busy and hypervisor steal shares over the measured logouts. */
  busyShare: number;
  stealShare: number;
  notes: string[];
}

export function cellName(spec: CellSpec): string {
  return `${spec.impl} n=${spec.n} hanging=${spec.hanging ? 'yes' : 'no'} wait=${spec.wait}`;
}

/** Client ids: app-01 … app-NN (client 1 is app-01), plus app-hanging. */
export function clientIds(n: number): string[] {
  const width = Math.max(2, String(n).length);
  return Array.from({ length: n }, (_, i) => `app-${String(i + 1).padStart(width, '0')}`);
}
export const HANGING_CLIENT = 'app-hanging';

export const redirectUriOf = (clientId: string) => `https://${clientId}.bench.example/callback`;
export const postLogoutUriOf = (clientId: string) => `https://${clientId}.bench.example/logged-out`;

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * Times one logout request: `send` issues it (no redirect followed); the answer time ends when
 * its headers arrive. Then waits (until `deadlineMs` after the request started) for every
 * expected back-channel POST; the time to the last one is the time-to-last-notify.
 */
export async function timeLogout(
  send: () => Promise<Response>,
  expectedLocation: string,
  receivers: ReceiverPool,
  expected: Expected[],
  deadlineMs: number,
): Promise<LogoutSample> {
  const t0 = performance.now();
  const res = await send();
  const answered = performance.now();
  await res.arrayBuffer().catch(() => undefined);
  const location = res.headers.get('location');
  let answerProblem: string | undefined;
  if (res.status !== 303) answerProblem = `status ${res.status}`;
  else if (!location || new URL(location).href !== new URL(expectedLocation).href) answerProblem = `location ${location}`;
  const arrivals = await waitForArrivals(receivers, expected, t0 + deadlineMs);
  const last = arrivals.missing.length ? Infinity : Math.max(...arrivals.at.values()) - t0;
  const returning = expected[0] ? arrivals.at.get(expected[0].clientId) : undefined;
  return {
    answerMs: answered - t0,
    answerOk: !answerProblem,
    answerProblem,
    lastNotifyMs: last,
    missing: arrivals.missing,
    returningNotifyMs: returning === undefined ? Infinity : returning - t0,
    returningToldBeforeAnswer: returning !== undefined && returning <= answered,
  };
}

/** Runs `warmup` unmeasured then `count` measured logouts, one after the other. */
export async function runLogouts(
  warmup: number,
  count: number,
  one: (measured: boolean) => Promise<LogoutSample>,
  log: (msg: string) => void,
  onMeasureStart: () => void,
): Promise<LogoutSample[]> {
  for (let i = 0; i < warmup; i++) await one(false);
  onMeasureStart();
  const samples: LogoutSample[] = [];
  for (let i = 0; i < count; i++) {
    const s = await one(true);
    samples.push(s);
    if (!s.answerOk || s.missing.length) {
      log(`logout ${i + 1}: ${s.answerProblem ?? 'answer ok'}; missing notifications: ${s.missing.join(', ') || 'none'}`);
    }
  }
  return samples;
}

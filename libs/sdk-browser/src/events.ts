/**
 * Event derivation of the browser SDK, as the original platform's SDK did it: events follow from
 * two successive session-status results. Pure, so every transition is unit-tested.
 */

/** What identity answers at `GET /api/2/session`. */
export interface SessionStatus {
  logged_in: boolean;
  user_id: string | null;
  /** Changes when the user signs in anew; not the session id itself. */
  session_hash: string | null;
}

export const SDK_EVENTS = [
  'SPiD.sessionInit',
  'SPiD.login',
  'SPiD.logout',
  'SPiD.userChange',
  'SPiD.statusChange',
  'SPiD.sessionChange',
  'SPiD.notLoggedin',
  'SPiD.visitor',
] as const;
export type SdkEvent = (typeof SDK_EVENTS)[number];

const hasUser = (s: SessionStatus | null): boolean => Boolean(s?.logged_in && s.user_id);

/**
 * The events to fire, in order, when `current` follows `previous` (null: the first status of
 * this page). A logout yields `SPiD.logout`, `SPiD.statusChange`, `SPiD.sessionChange`, then
 * `SPiD.notLoggedin`.
 */
export function deriveEvents(previous: SessionStatus | null, current: SessionStatus): SdkEvent[] {
  const events: SdkEvent[] = [];
  const first = previous === null;
  const had = hasUser(previous);
  const has = hasUser(current);
  if (first) events.push('SPiD.sessionInit');
  if (has && !had) events.push('SPiD.login');
  if (had && !has) events.push('SPiD.logout');
  if (had && has && previous!.user_id !== current.user_id) events.push('SPiD.userChange');
  if (first || had !== has) events.push('SPiD.statusChange');
  const sessionMoved = had !== has || (has && previous?.session_hash !== current.session_hash);
  if ((had || has) && sessionMoved) events.push('SPiD.sessionChange');
  if (!has && (first || had)) events.push('SPiD.notLoggedin');
  if (!has && first) events.push('SPiD.visitor');
  return events;
}

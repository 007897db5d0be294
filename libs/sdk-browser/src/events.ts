/**
 * Event derivation of the browser SDK, as the original platform's SDK did it: events follow from
 * two successive session-status results. Pure, so every transition is unit-tested.
 */
import type { SdkEventName, SessionStatus } from './types';

export const LOGGED_OUT: SessionStatus = Object.freeze({ logged_in: false, user_id: null, session_hash: null });

/** What a logout fires, wherever it happened (seed: "the SDK will trigger 3 events"). */
const LOGOUT_EVENTS: SdkEventName[] = ['SPiD.logout', 'SPiD.statusChange', 'SPiD.sessionChange'];

const hasUser = (s: SessionStatus | null): boolean => Boolean(s?.logged_in && s.user_id);

/**
 * The events to fire, in order, when `current` follows `previous` (null: the first status of
 * this page). A logout yields exactly `SPiD.logout`, `SPiD.statusChange`, `SPiD.sessionChange`.
 */
export function deriveEvents(previous: SessionStatus | null, current: SessionStatus): SdkEventName[] {
  const had = hasUser(previous);
  const has = hasUser(current);
  if (previous === null) {
    return has
      ? ['SPiD.sessionInit', 'SPiD.login', 'SPiD.statusChange', 'SPiD.sessionChange']
      : ['SPiD.sessionInit', 'SPiD.statusChange', 'SPiD.notLoggedin', 'SPiD.visitor'];
  }
  if (had && !has) return [...LOGOUT_EVENTS];
  if (!had && has) return ['SPiD.login', 'SPiD.statusChange', 'SPiD.sessionChange'];
  if (!has) return [];
  if (previous.user_id !== current.user_id) return ['SPiD.userChange', 'SPiD.sessionChange'];
  return previous.session_hash !== current.session_hash ? ['SPiD.sessionChange'] : [];
}

/**
 * The events after `SPiD.logout()`: the logout events when a user was known or identity says it
 * ended a session (the page may not have checked the status yet); nothing when already logged out.
 */
export function eventsAfterLogout(previous: SessionStatus | null, endedSession: boolean): SdkEventName[] {
  if (hasUser(previous) || endedSession) return [...LOGOUT_EVENTS];
  return previous === null ? deriveEvents(null, LOGGED_OUT) : [];
}

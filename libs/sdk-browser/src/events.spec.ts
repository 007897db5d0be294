import { deriveEvents, eventsAfterLogout, LOGGED_OUT } from './events';
import type { SessionStatus } from './types';

const visitor: SessionStatus = LOGGED_OUT;
const ada = (session = 's1'): SessionStatus => ({ logged_in: true, user_id: 'ada', session_hash: session });
const bob: SessionStatus = { logged_in: true, user_id: 'bob', session_hash: 's9' };
const LOGOUT = ['SPiD.logout', 'SPiD.statusChange', 'SPiD.sessionChange'];

describe('deriveEvents (SDK events from successive session statuses)', () => {
  it.each<[string, SessionStatus | null, SessionStatus, string[]]>([
    ['first status, signed in', null, ada(), ['SPiD.sessionInit', 'SPiD.login', 'SPiD.statusChange', 'SPiD.sessionChange']],
    ['first status, visitor', null, visitor, ['SPiD.sessionInit', 'SPiD.statusChange', 'SPiD.notLoggedin', 'SPiD.visitor']],
    ['visitor signs in', visitor, ada(), ['SPiD.login', 'SPiD.statusChange', 'SPiD.sessionChange']],
    ['user logs out (here, in another tab or app, or by redirect)', ada(), visitor, LOGOUT],
    ['another user signs in', ada(), bob, ['SPiD.userChange', 'SPiD.sessionChange']],
    ['same user, new session', ada('s1'), ada('s2'), ['SPiD.sessionChange']],
    ['nothing changed, signed in', ada(), ada(), []],
    ['nothing changed, visitor', visitor, visitor, []],
  ])('%s', (_what, previous, current, expected) => {
    expect(deriveEvents(previous, current)).toEqual(expected);
  });

  it('treats a status that says logged in without a user as not logged in', () => {
    expect(deriveEvents(ada(), { logged_in: true, user_id: null, session_hash: null })).toEqual(LOGOUT);
  });
});

describe('eventsAfterLogout (SPiD.logout())', () => {
  it('fires the three logout events after a known user', () => {
    expect(eventsAfterLogout(ada(), true)).toEqual(LOGOUT);
    expect(eventsAfterLogout(ada(), false)).toEqual(LOGOUT);
  });

  it('fires them when identity ended a session the page had not seen yet', () => {
    expect(eventsAfterLogout(null, true)).toEqual(LOGOUT);
    expect(eventsAfterLogout(visitor, true)).toEqual(LOGOUT);
  });

  it('fires nothing when the page already knew there was no session', () => {
    expect(eventsAfterLogout(visitor, false)).toEqual([]);
  });

  it('gives a page that had no status yet its first-status events', () => {
    expect(eventsAfterLogout(null, false)).toEqual(deriveEvents(null, LOGGED_OUT));
  });
});

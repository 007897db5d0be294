import { deriveEvents, SessionStatus } from './events';

const visitor: SessionStatus = { logged_in: false, user_id: null, session_hash: null };
const ada = (session = 's1'): SessionStatus => ({ logged_in: true, user_id: 'ada', session_hash: session });
const bob: SessionStatus = { logged_in: true, user_id: 'bob', session_hash: 's9' };

describe('deriveEvents (SDK events from successive session statuses)', () => {
  it.each<[string, SessionStatus | null, SessionStatus, string[]]>([
    ['first status, signed in', null, ada(), ['SPiD.sessionInit', 'SPiD.login', 'SPiD.statusChange', 'SPiD.sessionChange']],
    ['first status, visitor', null, visitor, ['SPiD.sessionInit', 'SPiD.statusChange', 'SPiD.notLoggedin', 'SPiD.visitor']],
    ['visitor signs in', visitor, ada(), ['SPiD.login', 'SPiD.statusChange', 'SPiD.sessionChange']],
    [
      'user logs out (here, in another tab or app, or by redirect)',
      ada(),
      visitor,
      ['SPiD.logout', 'SPiD.statusChange', 'SPiD.sessionChange', 'SPiD.notLoggedin'],
    ],
    ['another user signs in', ada(), bob, ['SPiD.userChange', 'SPiD.sessionChange']],
    ['same user, new session', ada('s1'), ada('s2'), ['SPiD.sessionChange']],
    ['nothing changed, signed in', ada(), ada(), []],
    ['nothing changed, visitor', visitor, visitor, []],
  ])('%s', (_what, previous, current, expected) => {
    expect(deriveEvents(previous, current)).toEqual(expected);
  });

  it('treats a status that says logged in without a user as not logged in', () => {
    expect(deriveEvents(ada(), { logged_in: true, user_id: null, session_hash: null })).toContain('SPiD.logout');
  });
});

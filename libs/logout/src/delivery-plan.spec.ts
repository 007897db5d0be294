import { planDeliveries, TargetClient } from './delivery-plan';

const client = (clientId: string, over: Partial<TargetClient> = {}): [string, TargetClient] => [
  clientId,
  {
    clientId,
    backchannelLogoutUri: `https://${clientId}.example.com/bcl`,
    sessionRequired: true,
    endpointDisabled: false,
    notifySessionExpired: true,
    ...over,
  },
];

describe('planDeliveries', () => {
  const participants = [
    { clientId: 'a', sid: 's1', sub: 'u' },
    { clientId: 'b', sid: 's1', sub: 'u' },
    { clientId: 'a', sid: 's2', sub: 'u' },
    { clientId: 'c', sid: 's2', sub: 'u' },
  ];

  it('tells every client of the ended session once, naming the session', () => {
    const clients = new Map([client('a'), client('b')]);
    const plan = planDeliveries({ sub: 'u', sid: 's1', participants: participants.filter((p) => p.sid === 's1'), clients });
    expect(plan).toEqual([
      { clientId: 'a', sub: 'u', sid: 's1', status: 'pending', lastError: null },
      { clientId: 'b', sub: 'u', sid: 's1', status: 'pending', lastError: null },
    ]);
  });

  it('for every session of a subject: one delivery per session to clients that require sid, one sub-only to the others', () => {
    const clients = new Map([client('a'), client('b'), client('c', { sessionRequired: false })]);
    const plan = planDeliveries({ sub: 'u', sid: null, participants, clients });
    expect(plan.map((p) => [p.clientId, p.sid])).toEqual([
      ['a', 's1'],
      ['a', 's2'],
      ['b', 's1'],
      ['c', ''],
    ]);
  });

  it('skips clients without a back channel and records deliveries to disabled endpoints as skipped', () => {
    const clients = new Map([client('a', { backchannelLogoutUri: null }), client('b', { endpointDisabled: true })]);
    const plan = planDeliveries({ sub: 'u', sid: 's1', participants, clients });
    expect(plan).toEqual([{ clientId: 'b', sub: 'u', sid: 's1', status: 'skipped', lastError: 'endpoint_disabled' }]);
  });

  it('limits the plan to explicit targets, and tells targets that have no recorded session too', () => {
    const clients = new Map([client('a'), client('b'), client('x')]);
    const plan = planDeliveries({ sub: 'u', sid: 's1', participants, clients, explicitTargets: ['b', 'x'] });
    expect(plan.map((p) => p.clientId)).toEqual(['b', 'x']);
  });

  it('tells an expired session only to clients that want to hear of expiry', () => {
    const clients = new Map([client('a'), client('b', { notifySessionExpired: false })]);
    const plan = planDeliveries({ sub: 'u', sid: 's1', participants, clients, sessionExpired: true });
    expect(plan.map((p) => p.clientId)).toEqual(['a']);
  });

  it('takes the subject from the session when the request named only the session', () => {
    const clients = new Map([client('a')]);
    const plan = planDeliveries({ sub: null, sid: 's1', participants: [participants[0]], clients });
    expect(plan[0].sub).toBe('u');
  });
});

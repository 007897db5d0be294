import { ada, calls, init, nobody, SERVER, answers, sdk, signedIn, useScriptedIdentity, type Answer } from './scripted-identity';

/**
 * The SDK keeping its status in step, with identity's answers scripted: answers that arrive out of
 * order or too late, polling and its back-off, and the messages between tabs of one client.
 */
useScriptedIdentity();

describe('ordering and lifecycle', () => {
  const deferred = () => {
    let resolve!: (a: Answer) => void;
    const promise = new Promise<Answer>((r) => (resolve = r));
    return { promise, resolve };
  };

  it('a status check answered while the logout was on its way does not cancel the logout', async () => {
    const { spid, seen } = sdk();
    answers.push({ body: ada });
    await init(spid, { cacheTtl: 0 });
    seen.length = 0;
    const logoutAnswer = deferred();
    answers.push(logoutAnswer.promise, { body: ada });
    const logout = spid.logout();
    await expect(spid.hasSession()).resolves.toEqual(ada); // identity had not ended the session yet
    logoutAnswer.resolve({ body: { logged_out: true, event_id: 'evt-4' } });
    await logout;
    expect(seen.map((e) => e.event)).toEqual(['SPiD.logout', 'SPiD.statusChange', 'SPiD.sessionChange']);
    expect(seen[seen.length - 1].status).toEqual(nobody);
  });

  it('drops answers that arrive after destroy() or a new init()', async () => {
    const { spid, seen } = sdk();
    const first = deferred();
    answers.push(first.promise);
    const firstInit = init(spid);
    answers.push({ body: nobody });
    await init(spid, { client_id: 'other-app', cacheTtl: 0 }); // no cache: the check below asks identity
    first.resolve({ body: ada });
    await firstInit;
    expect(seen.map((e) => e.event)).toEqual(['SPiD.statusChange']); // other-app's first status only (a visitor)

    const late = deferred();
    answers.push(late.promise);
    const check = spid.hasSession();
    spid.destroy();
    late.resolve({ body: ada });
    await check;
    expect(seen.map((e) => e.event)).toEqual(['SPiD.statusChange']);
    await expect(spid.hasSession()).rejects.toMatchObject({ code: 'not_initialized' });
  });
});

describe('polling', () => {
  const page = Object.assign(new EventTarget(), { visibilityState: 'visible' as DocumentVisibilityState });
  const setVisibility = (state: DocumentVisibilityState) => {
    page.visibilityState = state;
    page.dispatchEvent(new Event('visibilitychange'));
  };

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
    Object.assign(globalThis, { document: page, window: new EventTarget() });
  });
  afterEach(() => {
    jest.useRealTimers();
    Reflect.deleteProperty(globalThis, 'document');
    Reflect.deleteProperty(globalThis, 'window');
    page.visibilityState = 'visible';
  });

  it('polls while visible, not while hidden, and asks at once when back in view with a stale status', async () => {
    const { spid, seen } = sdk();
    answers.push({ body: ada });
    await init(spid, { pollInterval: 1000, cacheTtl: 500 });
    answers.push({ body: ada });
    await jest.advanceTimersByTimeAsync(1000);
    expect(calls).toHaveLength(2);

    setVisibility('hidden');
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(2);

    answers.push({ body: nobody });
    setVisibility('visible');
    await jest.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(3);
    expect(seen.filter((e) => e.source === 'poll').map((e) => e.event)).toEqual([
      'SPiD.logout',
      'SPiD.statusChange',
      'SPiD.sessionChange',
    ]);
  });

  it('backs off after failed checks, and returns to the interval after a success', async () => {
    const { spid } = sdk();
    answers.push({ body: ada });
    await init(spid, { pollInterval: 1000 });
    answers.push(new TypeError('Failed to fetch'), new TypeError('Failed to fetch'), { body: ada }, { body: ada });
    await jest.advanceTimersByTimeAsync(1000); // fails: next in 2 s
    expect(calls).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1999);
    expect(calls).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1); // fails again: next in 4 s
    expect(calls).toHaveLength(3);
    await jest.advanceTimersByTimeAsync(4000); // succeeds: back to 1 s
    expect(calls).toHaveLength(4);
    await jest.advanceTimersByTimeAsync(1000);
    expect(calls).toHaveLength(5);
  });
});

describe('tabs', () => {
  it('a logout in one instance reaches another of the same client without a request', async () => {
    const one = sdk();
    const two = sdk();
    answers.push({ body: ada }, { body: ada });
    await init(one.spid);
    await init(two.spid);
    two.seen.length = 0;
    const before = calls.length;
    answers.push({ body: { logged_out: true, event_id: 'evt-3' } });
    await one.spid.logout();
    await new Promise<void>((resolve) => two.spid.event.subscribe('SPiD.sessionChange', () => resolve()));
    expect(two.seen.map((e) => [e.event, e.source])).toEqual([
      ['SPiD.logout', 'tab'],
      ['SPiD.statusChange', 'tab'],
      ['SPiD.sessionChange', 'tab'],
    ]);
    expect(calls.length).toBe(before + 1); // the logout itself only
  });
});

describe('tab messages', () => {
  it('ignores malformed or far-future messages, which would freeze every later update', async () => {
    const { spid, seen } = await signedIn();
    const channel = new BroadcastChannel(`spid:${SERVER}:app`);
    try {
      channel.postMessage({ status: nobody, at: Infinity });
      channel.postMessage({ status: nobody, at: Date.now() + 3_600_000 });
      channel.postMessage({ status: { logged_in: 'no' }, at: Date.now() });
      const bob = { logged_in: true, user_id: 'bob', session_hash: 'h2' };
      channel.postMessage({ status: bob, at: Date.now() });
      await new Promise<void>((resolve) => spid.event.subscribe('SPiD.sessionChange', () => resolve()));
      expect(seen.map((e) => [e.event, e.source, e.status?.user_id])).toEqual([['SPiD.sessionChange', 'tab', 'bob']]);
    } finally {
      channel.close();
    }
  });
});

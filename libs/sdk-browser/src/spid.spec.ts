import { createSPiD } from './spid';
import type { SdkEvent, SessionStatus, SPiDApi } from './types';

/**
 * The SDK's own logic with identity's answers scripted (the real browser and identity are in
 * test/sdk-browser.e2e-spec.ts): option checks, caching, ordering, error mapping, tab messages.
 */
const SERVER = 'https://id.example.com';
const ada: SessionStatus = { logged_in: true, user_id: 'ada', session_hash: 'h1' };
const nobody: SessionStatus = { logged_in: false, user_id: null, session_hash: null };

type Answer = { status?: number; body: unknown } | Error;
let answers: Array<Answer | Promise<Answer>>;
let calls: Array<{ url: string; init: RequestInit }>;

beforeEach(() => {
  answers = [];
  calls = [];
  globalThis.fetch = jest.fn(async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    const answer = await (answers.shift() ?? Promise.reject(new Error('no scripted answer')));
    if (answer instanceof Error) throw answer;
    return new Response(JSON.stringify(answer.body), { status: answer.status ?? 200 });
  }) as typeof fetch;
});

const sdks: SPiDApi[] = [];
afterEach(() => sdks.splice(0).forEach((s) => s.destroy()));

function sdk(): { spid: SPiDApi; seen: SdkEvent[] } {
  const spid = createSPiD();
  sdks.push(spid);
  const seen: SdkEvent[] = [];
  for (const name of ['SPiD.login', 'SPiD.logout', 'SPiD.statusChange', 'SPiD.sessionChange', 'SPiD.error'] as const) {
    spid.event.subscribe(name, (e) => seen.push(e));
  }
  return { spid, seen };
}

const init = (spid: SPiDApi, extra: object = {}) => spid.init({ server: SERVER, client_id: 'app', pollInterval: 0, ...extra });

/** An SDK whose first status had a user, with the events of that first status cleared. */
async function signedIn(): Promise<{ spid: SPiDApi; seen: SdkEvent[] }> {
  const made = sdk();
  answers.push({ body: ada });
  await init(made.spid);
  made.seen.length = 0;
  return made;
}

describe('SPiD.init', () => {
  it.each([
    [{ client_id: 'app' }, /server is required/],
    [{ server: 'id.example.com', client_id: 'app' }, /server must be an absolute URL/],
    [{ server: 'javascript:alert(1)', client_id: 'app' }, /server must be an http\(s\) URL/],
    [{ server: `${SERVER}/?x=1`, client_id: 'app' }, /server must not have a query/],
    [{ server: SERVER, client_id: ' ' }, /client_id is required/],
    [{ server: SERVER, client_id: 'app', redirect_uri: '/relative' }, /redirect_uri must be an absolute URL/],
    [{ server: SERVER, client_id: 'app', pollInterval: -1 }, /pollInterval must be a number/],
    [{ server: SERVER, client_id: 'app', pollInterval: 5 }, /pollInterval must be 0 \(off\) or at least 100 ms/],
  ])('refuses %j', async (options, message) => {
    await expect(createSPiD().init(options as never)).rejects.toMatchObject({
      code: 'invalid_options',
      message: expect.stringMatching(message),
    });
    expect(calls).toHaveLength(0);
  });

  it('asks identity with credentials for this client, and fires the first-status events', async () => {
    const { spid, seen } = sdk();
    answers.push({ body: ada });
    await expect(init(spid)).resolves.toEqual(ada);
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe(`${SERVER}/api/2/session?client_id=app`);
    expect(calls[0].init).toMatchObject({ method: 'GET', credentials: 'include', cache: 'no-store' });
    expect(seen.map((e) => e.event)).toEqual(['SPiD.login', 'SPiD.statusChange', 'SPiD.sessionChange']);
  });
});

describe('before init', () => {
  it('says so instead of calling anything', async () => {
    const spid = createSPiD();
    await expect(spid.hasSession()).rejects.toMatchObject({ code: 'not_initialized' });
    await expect(spid.logout()).rejects.toMatchObject({ code: 'not_initialized' });
    expect(() => spid.logoutUrl()).toThrow(expect.objectContaining({ code: 'not_initialized' }));
    expect(calls).toHaveLength(0);
  });
});

describe('SPiD.hasSession', () => {
  it('reuses a fresh status and shares one request between concurrent callers', async () => {
    const { spid } = sdk();
    answers.push({ body: ada });
    await init(spid, { cacheTtl: 60_000 });
    await expect(spid.hasSession()).resolves.toEqual(ada);
    expect(calls).toHaveLength(1);

    const { spid: other } = sdk();
    answers.push({ body: nobody }, { body: nobody });
    await init(other, { cacheTtl: 0 });
    const both = await Promise.all([other.hasSession(), other.hasSession()]);
    expect(both).toEqual([nobody, nobody]);
    expect(calls).toHaveLength(3);
  });

  it('answers Node-style callbacks too', async () => {
    const { spid } = sdk();
    answers.push({ body: ada });
    await init(spid, { cacheTtl: 60_000 });
    const result = await new Promise((resolve) => spid.hasSession((err, status) => resolve([err, status])));
    expect(result).toEqual([null, ada]);
  });

  it.each<[string, Answer, string, RegExp]>([
    [
      'identity unreachable or origin refused',
      new TypeError('Failed to fetch'),
      'unreachable',
      /registered web origin of client app/,
    ],
    [
      'identity rejects the client',
      { status: 400, body: { error: 'validation_failed', message: 'client_id: is not a registered application' } },
      'rejected',
      /client_id: is not a registered application/,
    ],
    ['identity answers something else', { body: { hello: 'world' } }, 'bad_response', /not a session status/],
  ])('%s: rejects with %s and fires SPiD.error', async (_what, answer, code, message) => {
    const { spid, seen } = sdk();
    answers.push(answer);
    await expect(init(spid)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    expect(seen.map((e) => [e.event, e.error?.code])).toEqual([['SPiD.error', code]]);
  });
});

describe('SPiD.logout', () => {
  it('posts with the CSRF header, then fires exactly the three logout events', async () => {
    const { spid, seen } = await signedIn();
    answers.push({ body: { logged_out: true, event_id: 'evt-1' } });
    await expect(spid.logout()).resolves.toEqual({ logged_out: true, event_id: 'evt-1', status: nobody });
    expect(calls[1]).toMatchObject({
      url: `${SERVER}/api/2/session/logout?client_id=app`,
      init: { method: 'POST', credentials: 'include' },
    });
    expect((calls[1].init.headers as Record<string, string>)['X-SPiD-Request']).toBe('1');
    expect(seen.map((e) => [e.event, e.source])).toEqual([
      ['SPiD.logout', 'logout'],
      ['SPiD.statusChange', 'logout'],
      ['SPiD.sessionChange', 'logout'],
    ]);
  });

  it('does not let a status check that started before the logout bring the user back', async () => {
    const { spid, seen } = sdk();
    answers.push({ body: ada });
    await init(spid, { cacheTtl: 0 });
    let answerLate!: (a: Answer) => void;
    answers.push(new Promise<Answer>((resolve) => (answerLate = resolve)));
    const check = spid.hasSession();
    answers.push({ body: { logged_out: true, event_id: 'evt-2' } });
    await spid.logout();
    answerLate({ body: ada }); // identity answered the older check after the logout
    await expect(check).resolves.toEqual(nobody);
    expect(seen.filter((e) => e.event === 'SPiD.login')).toHaveLength(1); // only the one from init
  });
});

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

describe('SPiD.logoutUrl', () => {
  it('builds the redirect-flow URL with the init default or the given return address', async () => {
    const { spid } = sdk();
    answers.push({ body: nobody });
    await init(spid, { redirect_uri: 'https://app.example.com/' });
    expect(spid.logoutUrl()).toBe(`${SERVER}/logout?client_id=app&redirect_uri=https%3A%2F%2Fapp.example.com%2F`);
    expect(spid.logoutUrl('https://app.example.com/bye?x=1')).toBe(
      `${SERVER}/logout?client_id=app&redirect_uri=https%3A%2F%2Fapp.example.com%2Fbye%3Fx%3D1`,
    );
    expect(() => spid.logoutUrl('javascript:alert(1)')).toThrow(expect.objectContaining({ code: 'invalid_options' }));
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

describe('SPiD.event', () => {
  it('keeps calling the other listeners when one throws, and refuses a listener that is not a function', async () => {
    jest.useFakeTimers();
    try {
      const { spid, seen } = sdk();
      spid.event.subscribe('SPiD.login', () => {
        throw new Error('app bug');
      });
      answers.push({ body: ada });
      await init(spid);
      expect(seen.map((e) => e.event)).toContain('SPiD.login');
      expect(() => jest.runOnlyPendingTimers()).toThrow('app bug'); // reported, not swallowed
      expect(() => spid.event.subscribe('SPiD.login', 'nope' as never)).toThrow(TypeError);
    } finally {
      jest.useRealTimers();
    }
  });
});

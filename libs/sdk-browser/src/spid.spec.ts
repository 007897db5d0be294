import { createSPiD } from './spid';
import { ada, calls, init, nobody, SERVER, answers, sdk, signedIn, useScriptedIdentity, type Answer } from './scripted-identity';

/**
 * The SDK's calls with identity's answers scripted (the real browser and identity are in
 * test/sdk-browser.e2e-spec.ts): option checks, caching, error mapping, logout, the logout URL,
 * listeners. Ordering, polling and tab messages: spid-sync.spec.ts.
 */
useScriptedIdentity();

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

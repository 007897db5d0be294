import { createSPiD } from './spid';
import type { SdkEvent, SessionStatus, SPiDApi } from './types';

/**
 * Test-only: identity's answers scripted for the SDK's unit tests (spid.spec.ts, spid-sync.spec.ts).
 * `useScriptedIdentity()` replaces `fetch` before each test (each call takes the next of `answers`
 * and is written to `calls`) and destroys the SDKs `sdk()` made after it.
 */
export const SERVER = 'https://id.example.com';
export const ada: SessionStatus = { logged_in: true, user_id: 'ada', session_hash: 'h1' };
export const nobody: SessionStatus = { logged_in: false, user_id: null, session_hash: null };

export type Answer = { status?: number; body: unknown } | Error;
export const answers: Array<Answer | Promise<Answer>> = [];
export const calls: Array<{ url: string; init: RequestInit }> = [];
const sdks: SPiDApi[] = [];

export function useScriptedIdentity(): void {
  beforeEach(() => {
    answers.length = 0;
    calls.length = 0;
    globalThis.fetch = jest.fn(async (url: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(url), init: init ?? {} });
      const answer = await (answers.shift() ?? Promise.reject(new Error('no scripted answer')));
      if (answer instanceof Error) throw answer;
      return new Response(JSON.stringify(answer.body), { status: answer.status ?? 200 });
    }) as typeof fetch;
  });
  afterEach(() => sdks.splice(0).forEach((s) => s.destroy()));
}

export function sdk(): { spid: SPiDApi; seen: SdkEvent[] } {
  const spid = createSPiD();
  sdks.push(spid);
  const seen: SdkEvent[] = [];
  for (const name of ['SPiD.login', 'SPiD.logout', 'SPiD.statusChange', 'SPiD.sessionChange', 'SPiD.error'] as const) {
    spid.event.subscribe(name, (e) => seen.push(e));
  }
  return { spid, seen };
}

export const init = (spid: SPiDApi, extra: object = {}) =>
  spid.init({ server: SERVER, client_id: 'app', pollInterval: 0, ...extra });

/** An SDK whose first status had a user, with the events of that first status cleared. */
export async function signedIn(): Promise<{ spid: SPiDApi; seen: SdkEvent[] }> {
  const made = sdk();
  answers.push({ body: ada });
  await init(made.spid);
  made.seen.length = 0;
  return made;
}

import { EventHub } from './emitter';
import { SPiDError } from './errors';
import { deriveEvents, eventsAfterLogout, LOGGED_OUT } from './events';
import { IdentityClient } from './identity-client';
import { absoluteUrl, parseOptions, Settings } from './options';
import { TabChannel, TabMessage } from './tab-channel';
import type { InitOptions, LogoutResult, NodeStyleCallback, SdkEventName, SessionStatus, SPiDApi, StatusSource } from './types';

declare const __SPID_VERSION__: string;
const VERSION = typeof __SPID_VERSION__ === 'string' ? __SPID_VERSION__ : '0.0.0-dev';

interface Known {
  status: SessionStatus;
  /** When the request that produced it started (wall clock, comparable across tabs): older news never replaces newer. */
  at: number;
  /** When this page took it in (monotonic): the cache age. */
  receivedAt: number;
}

interface Running {
  settings: Settings;
  identity: IdentityClient;
  channel: TabChannel;
  timer?: ReturnType<typeof setTimeout>;
  inflight?: Promise<SessionStatus>;
  /** Failed checks in a row: the poll interval doubles with each, up to 16 times. */
  failures: number;
  detach: () => void;
}

const MAX_BACKOFF_EXPONENT = 4;

const monotonic = (): number => (typeof performance === 'undefined' ? Date.now() : performance.now());

/** One SDK instance: the script-tag build exposes it as `window.SPiD`. */
export function createSPiD(): SPiDApi {
  const hub = new EventHub();
  let known: Known | null = null;
  let run: Running | null = null;
  let lastStamp = 0;

  /** Wall-clock time (comparable across tabs), strictly increasing within this page. */
  const stamp = (): number => (lastStamp = Math.max(Date.now(), lastStamp + 0.001));

  const running = (): Running => {
    if (!run) throw new SPiDError('not_initialized', 'call SPiD.init({ server, client_id }) first');
    return run;
  };

  /**
   * Takes a status in for run `r`; fires the events it implies; tells the other tabs unless it
   * came from one. False when dropped: `r` was destroyed or replaced, or newer news is known.
   */
  function apply(r: Running, status: SessionStatus, at: number, source: StatusSource, events?: SdkEventName[]): boolean {
    if (run !== r || (known && at < known.at)) return false;
    const previous = known?.status ?? null;
    known = { status, at, receivedAt: monotonic() };
    if (source !== 'tab') r.channel.post({ status, at });
    for (const event of events ?? deriveEvents(previous, status)) hub.fire({ event, status, previous, source });
    return true;
  }

  function fail(r: Running, error: unknown, source: StatusSource): never {
    if (run === r) {
      const info = error instanceof SPiDError ? error.toJSON() : { code: 'unreachable' as const, message: String(error) };
      hub.fire({ event: 'SPiD.error', status: known?.status ?? null, previous: null, source, error: info });
    }
    throw error;
  }

  function refresh(r: Running, source: StatusSource): Promise<SessionStatus> {
    if (r.inflight) return r.inflight;
    const at = stamp();
    const request = r.identity
      .status()
      .then(
        (status) => {
          r.failures = 0;
          apply(r, status, at, source);
          return run === r && known ? known.status : status;
        },
        (err) => {
          r.failures++;
          return fail(r, err, source);
        },
      )
      .finally(() => {
        if (r.inflight === request) r.inflight = undefined;
        schedule(r);
      });
    r.inflight = request;
    return request;
  }

  const poll = (r: Running) => void refresh(r, 'poll').catch(() => undefined);

  function visible(): boolean {
    return typeof document === 'undefined' || document.visibilityState !== 'hidden';
  }

  /** (Re)arms the next poll: only while polling is on, the tab is visible and `r` is current. */
  function schedule(r: Running): void {
    clearTimeout(r.timer);
    r.timer = undefined;
    if (run !== r || !r.settings.pollInterval || !visible()) return;
    const delay = r.settings.pollInterval * 2 ** Math.min(r.failures, MAX_BACKOFF_EXPONENT);
    r.timer = setTimeout(() => poll(r), delay);
  }

  /** Hidden tabs stop polling; a tab back in view (or back online) asks at once if its status is stale. */
  function watchPage(r: Running): () => void {
    if (typeof document === 'undefined' || typeof window === 'undefined') return () => undefined;
    const wake = () => {
      if (!visible()) return schedule(r); // clears the timer
      const stale = !known || monotonic() - known.receivedAt >= r.settings.cacheTtl;
      if (stale && r.settings.pollInterval) poll(r);
      else schedule(r);
    };
    const page = document;
    const win = window;
    page.addEventListener('visibilitychange', wake);
    win.addEventListener('online', wake);
    return () => {
      page.removeEventListener('visibilitychange', wake);
      win.removeEventListener('online', wake);
    };
  }

  function stop(): void {
    if (!run) return;
    clearTimeout(run.timer);
    run.channel.close();
    run.detach();
    run = null;
  }

  function callbackOf<T>(promise: Promise<T>, callback?: NodeStyleCallback<T>): Promise<T> {
    if (typeof callback === 'function') {
      promise.then(
        (value) => callback(null, value),
        (err: Error) => callback(err),
      );
    }
    return promise;
  }

  function logoutUrl(redirectUri?: string): string {
    const { settings } = running();
    const target = redirectUri === undefined ? settings.redirectUri : absoluteUrl(redirectUri, 'redirect_uri').href;
    const query = new URLSearchParams({ client_id: settings.clientId });
    if (target) query.set('redirect_uri', target);
    return `${settings.server}/logout?${query}`;
  }

  return {
    version: VERSION,

    init(options: InitOptions): Promise<SessionStatus> {
      let settings: Settings;
      try {
        settings = parseOptions(options);
      } catch (err) {
        return Promise.reject(err);
      }
      stop();
      known = null;
      const r: Running = {
        settings,
        identity: new IdentityClient(settings.server, settings.clientId),
        // Fresh news from another tab also postpones this tab's own poll: the tabs of one app share the polling.
        channel: new TabChannel(`spid:${settings.server}:${settings.clientId}`, (m: TabMessage) => {
          if (apply(r, m.status, m.at, 'tab')) schedule(r);
        }),
        failures: 0,
        detach: () => undefined,
      };
      run = r;
      r.detach = watchPage(r);
      return refresh(r, 'request');
    },

    hasSession(callback) {
      let result: Promise<SessionStatus>;
      try {
        const r = running();
        const fresh = known && monotonic() - known.receivedAt < r.settings.cacheTtl;
        result = fresh ? Promise.resolve(known!.status) : refresh(r, 'request');
      } catch (err) {
        result = Promise.reject(err);
      }
      return callbackOf(result, callback);
    },

    logout(callback) {
      const attempt = async (): Promise<LogoutResult> => {
        const r = running();
        const outcome = await r.identity.logout().catch((err) => fail(r, err, 'logout'));
        // Stamped when identity answered: a check that started before then may hold the status from before the logout.
        apply(r, LOGGED_OUT, stamp(), 'logout', eventsAfterLogout(known?.status ?? null, outcome.logged_out));
        return { ...outcome, status: LOGGED_OUT };
      };
      return callbackOf(attempt(), callback);
    },

    logoutUrl,

    redirectLogout(redirectUri) {
      window.location.assign(logoutUrl(redirectUri));
    },

    event: {
      subscribe: (name, listener) => hub.subscribe(name, listener),
      unsubscribe: (name, listener) => hub.unsubscribe(name, listener),
    },

    destroy: stop,
  };
}

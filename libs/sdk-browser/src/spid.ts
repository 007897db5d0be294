import { EventHub } from './emitter';
import { SPiDError } from './errors';
import { deriveEvents, eventsAfterLogout, LOGGED_OUT } from './events';
import { IdentityClient } from './identity-client';
import { absoluteUrl, parseOptions, Settings } from './options';
import { TabChannel, TabMessage } from './tab-channel';
import type { InitOptions, LogoutResult, NodeStyleCallback, SdkEventName, SessionStatus, SPiDApi, StatusSource } from './types';

declare const __SPID_VERSION__: string;
export const VERSION = typeof __SPID_VERSION__ === 'string' ? __SPID_VERSION__ : '0.0.0-dev';

interface Known {
  status: SessionStatus;
  /** When the request that produced it started: older news never replaces newer. */
  at: number;
}

interface Running {
  settings: Settings;
  identity: IdentityClient;
  channel: TabChannel;
  timer?: ReturnType<typeof setTimeout>;
  inflight?: Promise<SessionStatus>;
  stopVisibility: () => void;
}

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

  /** Takes a status in; fires the events it implies; tells the other tabs unless it came from one. */
  function apply(status: SessionStatus, at: number, source: StatusSource, events?: SdkEventName[]): void {
    if (known && at < known.at) return;
    const previous = known?.status ?? null;
    known = { status, at };
    if (source !== 'tab') run?.channel.post({ status, at });
    for (const event of events ?? deriveEvents(previous, status)) hub.fire({ event, status, previous, source });
  }

  function fail(error: unknown, source: StatusSource): never {
    const info = error instanceof SPiDError ? error.toJSON() : { code: 'unreachable' as const, message: String(error) };
    hub.fire({ event: 'SPiD.error', status: known?.status ?? null, previous: null, source, error: info });
    throw error;
  }

  function refresh(source: StatusSource): Promise<SessionStatus> {
    const r = running();
    if (r.inflight) return r.inflight;
    const at = stamp();
    const request = r.identity
      .status()
      .then(
        (status) => {
          apply(status, at, source);
          return known!.status;
        },
        (err) => fail(err, source),
      )
      .finally(() => {
        if (r.inflight === request) r.inflight = undefined;
        schedule(r);
      });
    r.inflight = request;
    return request;
  }

  function visible(): boolean {
    return typeof document === 'undefined' || document.visibilityState !== 'hidden';
  }

  /** The next poll, only while polling is on, the tab is visible and this run is current. */
  function schedule(r: Running): void {
    clearTimeout(r.timer);
    r.timer = undefined;
    if (run !== r || !r.settings.pollInterval || !visible()) return;
    r.timer = setTimeout(() => void refresh('poll').catch(() => undefined), r.settings.pollInterval);
  }

  function watchVisibility(r: Running): () => void {
    if (typeof document === 'undefined') return () => undefined;
    const onChange = () => {
      if (!visible()) return schedule(r); // clears the timer: no polling in hidden tabs
      const stale = !known || Date.now() - known.at >= r.settings.cacheTtl;
      if (stale && r.settings.pollInterval) void refresh('poll').catch(() => undefined);
      else schedule(r);
    };
    document.addEventListener('visibilitychange', onChange);
    return () => document.removeEventListener('visibilitychange', onChange);
  }

  function stop(): void {
    if (!run) return;
    clearTimeout(run.timer);
    run.channel.close();
    run.stopVisibility();
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
      const settings = parseOptions(options);
      stop();
      known = null;
      const r: Running = {
        settings,
        identity: new IdentityClient(settings.server, settings.clientId),
        channel: new TabChannel(`spid:${settings.server}:${settings.clientId}`, (m: TabMessage) => {
          if (run === r) apply(m.status, m.at, 'tab');
        }),
        stopVisibility: () => undefined,
      };
      run = r;
      r.stopVisibility = watchVisibility(r);
      return refresh('request');
    },

    hasSession(callback) {
      let result: Promise<SessionStatus>;
      try {
        const r = running();
        result = known && Date.now() - known.at < r.settings.cacheTtl ? Promise.resolve(known.status) : refresh('request');
      } catch (err) {
        result = Promise.reject(err);
      }
      return callbackOf(result, callback);
    },

    logout(callback) {
      const attempt = async (): Promise<LogoutResult> => {
        const r = running();
        const at = stamp();
        const outcome = await r.identity.logout().catch((err) => fail(err, 'logout'));
        apply(LOGGED_OUT, at, 'logout', eventsAfterLogout(known?.status ?? null, outcome.logged_out));
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

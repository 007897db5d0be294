/**
 * Public types of the browser SDK. Self-contained (no imports, no DOM types): the build turns
 * this file into the published `spid.d.ts`, and Node-side code (tests, identity) may import it.
 */

/** What identity answers at `GET /api/2/session`. */
export interface SessionStatus {
  logged_in: boolean;
  /** The user's `sub`, or null without a session. */
  user_id: string | null;
  /** Changes when the user signs in anew; a per-client digest, not the session id itself. */
  session_hash: string | null;
}

/** The original platform's events, derived from successive session statuses. */
export type SdkEventName =
  | 'SPiD.sessionInit'
  | 'SPiD.login'
  | 'SPiD.logout'
  | 'SPiD.userChange'
  | 'SPiD.statusChange'
  | 'SPiD.sessionChange'
  | 'SPiD.notLoggedin'
  | 'SPiD.visitor';

/** Fired when identity could not be asked (unreachable, origin refused, bad answer). */
export type SdkErrorEventName = 'SPiD.error';

/** Where a status came from: this page's own request, a poll, an SDK logout, or another tab. */
export type StatusSource = 'request' | 'poll' | 'logout' | 'tab';

export interface SdkEvent {
  /** The event's name, e.g. `SPiD.logout`. */
  event: SdkEventName | SdkErrorEventName;
  /** The status after the change (for `SPiD.error`: the last known status, or null). */
  status: SessionStatus | null;
  /** The status before the change; null on the first status of the page. */
  previous: SessionStatus | null;
  source: StatusSource;
  /** Only on `SPiD.error`. */
  error?: SPiDErrorInfo;
}

export type SdkListener = (event: SdkEvent) => void;

export type SPiDErrorCode =
  /** A method other than `init`, `event.*` or `version` was called before `init`. */
  | 'not_initialized'
  /** `init` options or a redirect URI were not acceptable. */
  | 'invalid_options'
  /**
   * The request did not get an answer the page may read: identity is down, or it refused this
   * page's origin (not a registered web origin of the client; browsers do not tell which).
   */
  | 'unreachable'
  /** Identity answered with an error (4xx/5xx); `status` and `message` say which. */
  | 'rejected'
  /** Identity answered 2xx with a body that is not a session status. */
  | 'bad_response';

export interface SPiDErrorInfo {
  code: SPiDErrorCode;
  message: string;
  /** HTTP status, when identity answered. */
  status?: number;
}

export interface InitOptions {
  /** Identity's base URL, e.g. `https://id.example.com`. */
  server: string;
  /** Your application's client id (its web origins must include this page's origin). */
  client_id: string;
  /** Default return address of the redirect-flow logout; must be registered for the client. */
  redirect_uri?: string;
  /** Milliseconds between session checks while the tab is visible (doubling after failures); 0 turns polling off. Default 30000. */
  pollInterval?: number;
  /** Milliseconds a status is reused by `hasSession()` before identity is asked again. Default 5000. */
  cacheTtl?: number;
}

export interface LogoutResult {
  /** True when identity ended a session; false when there was none. */
  logged_out: boolean;
  /** The logout event that notifies the other applications, when a session was ended. */
  event_id: string | null;
  status: SessionStatus;
}

export type NodeStyleCallback<T> = (error: Error | null, result?: T) => void;

export interface SPiDApi {
  /** The SDK's version. */
  readonly version: string;
  /** Configures the SDK, checks the session (firing the first events) and starts polling; rejects `invalid_options` naming a bad option. */
  init(options: InitOptions): Promise<SessionStatus>;
  /** The identity session status, asked with credentials; reused for `cacheTtl` ms. */
  hasSession(callback?: NodeStyleCallback<SessionStatus>): Promise<SessionStatus>;
  /** Ends the identity session, then fires `SPiD.logout`, `SPiD.statusChange`, `SPiD.sessionChange` (unless the page already knew there was none). */
  logout(callback?: NodeStyleCallback<LogoutResult>): Promise<LogoutResult>;
  /** The redirect-flow logout URL (`GET /logout`), returning to `redirect_uri` or the init default. */
  logoutUrl(redirect_uri?: string): string;
  /** Navigates to `logoutUrl(redirect_uri)`. */
  redirectLogout(redirect_uri?: string): void;
  event: {
    subscribe(name: SdkEventName | SdkErrorEventName, listener: SdkListener): void;
    unsubscribe(name: SdkEventName | SdkErrorEventName, listener: SdkListener): void;
  };
  /** Stops polling and tab messages (single-page apps tearing down; `init` starts them again). */
  destroy(): void;
}

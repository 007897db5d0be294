import { SPiDError } from './errors';
import type { SessionStatus } from './types';

/** The header identity requires on state-changing SDK calls (a cross-site form cannot send it). */
const SDK_REQUEST_HEADER = 'X-SPiD-Request';

/** Identity's browser endpoints (`/api/2/session`), called with the session cookie. */
export class IdentityClient {
  constructor(
    private readonly server: string,
    private readonly clientId: string,
  ) {}

  async status(): Promise<SessionStatus> {
    const body = await this.call('GET', '/api/2/session');
    if (typeof body.logged_in !== 'boolean' || !isStringOrNull(body.user_id) || !isStringOrNull(body.session_hash)) {
      throw new SPiDError(
        'bad_response',
        `${this.server} answered the session check with something that is not a session status`,
      );
    }
    return { logged_in: body.logged_in, user_id: body.user_id, session_hash: body.session_hash };
  }

  async logout(): Promise<{ logged_out: boolean; event_id: string | null }> {
    const body = await this.call('POST', '/api/2/session/logout', { [SDK_REQUEST_HEADER]: '1' });
    if (typeof body.logged_out !== 'boolean' || !isStringOrNull(body.event_id)) {
      throw new SPiDError('bad_response', `${this.server} answered the logout with something that is not a logout result`);
    }
    return { logged_out: body.logged_out, event_id: body.event_id };
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string> = {},
  ): Promise<Record<string, unknown>> {
    const url = `${this.server}${path}?client_id=${encodeURIComponent(this.clientId)}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        credentials: 'include',
        cache: 'no-store',
        headers: { accept: 'application/json', ...headers },
      });
    } catch {
      // Browsers hide why: network failure and a refused (CORS) origin look the same.
      throw new SPiDError(
        'unreachable',
        `${this.server} did not answer this page, or refused its origin ${pageOrigin()}: ` +
          `the origin must be a registered web origin of client ${this.clientId}`,
      );
    }
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      const message = body && typeof body.message === 'string' ? body.message : `HTTP ${res.status}`;
      throw new SPiDError(
        'rejected',
        `${this.server} refused the ${method === 'GET' ? 'session check' : 'logout'}: ${message}`,
        res.status,
      );
    }
    if (!body || typeof body !== 'object')
      throw new SPiDError('bad_response', `${this.server} answered ${path} without a JSON object`);
    return body as Record<string, unknown>;
  }
}

const isStringOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

function pageOrigin(): string {
  return typeof location === 'undefined' ? '(none)' : location.origin;
}

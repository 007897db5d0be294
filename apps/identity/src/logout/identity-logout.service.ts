import { Inject, Injectable } from '@nestjs/common';
import { ClientsService } from '@slo/clients';
import { APP_CONFIG, AppConfig } from '@slo/config';
import type { LogoutTrigger } from '@slo/database';
import { LogoutService, RecordedLogout } from '@slo/logout';
import type { Request, Response } from 'express';
import type Provider from 'oidc-provider';
import type { FrontchannelFrame } from './logout-pages';
import { OIDC_PROVIDER } from '../oidc/oidc-provider.token';

export interface BrowserSession {
  sid: string;
  sub: string;
}

/**
 * The identity service's side of logging out: reads the browser's session, records the logout
 * through LogoutService (which ends the session), clears the cookie, and optionally waits for the
 * back-channel deliveries before the user is sent on.
 */
@Injectable()
export class IdentityLogoutService {
  constructor(
    @Inject(OIDC_PROVIDER) private readonly provider: Provider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logouts: LogoutService,
    private readonly clients: ClientsService,
  ) {}

  /** The signed-in session named by the request's session cookie, if any. */
  async currentSession(req: Request, res: Response): Promise<BrowserSession | null> {
    const ctx = this.provider.createContext(req, res);
    const session = await this.provider.Session.get(ctx as never);
    return session.accountId ? { sid: session.uid, sub: session.accountId } : null;
  }

  /** Ends the browser's session (if there is one) and clears its cookie. */
  async endBrowserSession(
    req: Request,
    res: Response,
    trigger: LogoutTrigger,
    initiatorClientId: string | null,
  ): Promise<RecordedLogout | null> {
    const session = await this.currentSession(req, res);
    this.clearSessionCookie(res);
    if (!session) return null;
    return this.record(trigger, session, initiatorClientId);
  }

  /**
   * Records the logout of one browser session, which ends it with every grant it held. `grantIds`:
   * the session's grants when the provider already deleted the session record (RP-initiated logout).
   */
  record(
    trigger: LogoutTrigger,
    session: BrowserSession,
    initiatorClientId: string | null,
    grantIds?: string[],
  ): Promise<RecordedLogout> {
    return this.logouts.record({ trigger, sid: session.sid, sub: session.sub, initiatorClientId, grantIds });
  }

  /** One app's login ended through the API: tell that app's back channel, leave the identity session(s) alone. */
  async recordAppLogout(token: { clientId: string; accountId: string; sessionUid: string | null }): Promise<RecordedLogout> {
    const client = await this.clients.findActive(token.clientId);
    return this.logouts.record({
      trigger: 'api_logout',
      sub: token.accountId,
      sid: token.sessionUid,
      initiatorClientId: token.clientId,
      targetClientIds: client?.backchannelLogoutUri ? [token.clientId] : [],
      keepSessions: true,
    });
  }

  /** Every session and token of a user ends; every client that took part is told. */
  recordAllSessions(sub: string, initiatorClientId: string): Promise<RecordedLogout> {
    return this.logouts.record({ trigger: 'all_sessions', sub, initiatorClientId });
  }

  /**
   * Before a logout redirect: waits, within LOGOUT_REDIRECT_WAIT_MS, until the application the user
   * is sent back to (`returningClientId`) was told — or every participant, with
   * LOGOUT_REDIRECT_WAIT_FOR=all — so the user lands on an app that already ended its session.
   * The redirect goes ahead when the budget runs out, whatever happened.
   */
  async awaitDeliveries(recorded: RecordedLogout | null, returningClientId: string | null): Promise<void> {
    const { redirectWaitMs: budget, redirectWaitFor: what } = this.config.logout;
    if (!recorded || budget <= 0) return;
    if (what === 'returning_client' && !returningClientId) return;
    await this.logouts.waitForDeliveries(recorded, budget, what === 'all' ? undefined : returningClientId!);
  }

  /** Front-channel logout frames for the clients of the ended session that registered a frontchannel_logout_uri. */
  frontchannelFrames(recorded: RecordedLogout | null): FrontchannelFrame[] {
    return (recorded?.frontchannel ?? []).map((t) => {
      const url = new URL(t.uri);
      url.searchParams.set('iss', this.config.identity.issuer);
      url.searchParams.set('sid', t.sid);
      return { clientId: t.clientId, src: url.href };
    });
  }

  private clearSessionCookie(res: Response): void {
    const name = this.provider.cookieName('session');
    for (const cookie of [name, `${name}.sig`]) res.clearCookie(cookie, { path: '/', httpOnly: true, sameSite: 'lax' });
  }
}

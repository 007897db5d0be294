import { Inject, Injectable } from '@nestjs/common';
import { ClientsService } from '@slo/clients';
import { APP_CONFIG, AppConfig } from '@slo/config';
import type { LogoutTrigger } from '@slo/database';
import { LogoutService, RecordedLogout } from '@slo/logout';
import type { Request, Response } from 'express';
import type Provider from 'oidc-provider';
import { OIDC_PROVIDER } from '../oidc/oidc-provider.factory';

export interface BrowserSession {
  sid: string;
  sub: string;
}

/** A front-channel logout iframe: the client's frontchannel_logout_uri with iss and sid. */
export interface FrontchannelFrame {
  clientId: string;
  src: string;
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

  record(trigger: LogoutTrigger, session: BrowserSession, initiatorClientId: string | null): Promise<RecordedLogout> {
    return this.logouts.record({ trigger, sid: session.sid, sub: session.sub, initiatorClientId });
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

  /** With LOGOUT_REDIRECT_WAIT_MS > 0: wait until the applications were told, within that budget. */
  async awaitDeliveries(recorded: RecordedLogout | null): Promise<void> {
    const budget = this.config.logout.redirectWaitMs;
    if (!recorded || budget <= 0) return;
    await this.logouts.waitForDeliveries(
      recorded.deliveries.filter((d) => d.status === 'pending').map((d) => d.id),
      budget,
    );
  }

  /** Front-channel logout frames for the clients of the ended session that registered a frontchannel_logout_uri. */
  async frontchannelFrames(recorded: RecordedLogout | null): Promise<FrontchannelFrame[]> {
    if (!recorded) return [];
    const frames: FrontchannelFrame[] = [];
    for (const p of recorded.participants) {
      const client = await this.clients.findActive(p.clientId);
      if (!client?.frontchannelLogoutUri) continue;
      const url = new URL(client.frontchannelLogoutUri);
      url.searchParams.set('iss', this.config.identity.issuer);
      url.searchParams.set('sid', p.sid);
      frames.push({ clientId: client.clientId, src: url.href });
    }
    return frames;
  }

  private clearSessionCookie(res: Response): void {
    const name = this.provider.cookieName('session');
    for (const cookie of [name, `${name}.sig`]) res.clearCookie(cookie, { path: '/', httpOnly: true, sameSite: 'lax' });
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@slo/config';
import type { LogoutTrigger } from '@slo/database';
import { LogoutService, RecordedLogout } from '@slo/logout';
import type { Request, Response } from 'express';
import type Provider from 'oidc-provider';
import { OIDC_PROVIDER } from '../oidc/oidc-provider.token';
import type { LogoutAnswer } from './logout-answer';
import { FrontchannelFrame, loggedOutPage } from './logout-pages';

interface BrowserSession {
  sid: string;
  sub: string;
}

/**
 * The browser's side of logging out, for every identity route a browser calls (`GET /logout`,
 * `/session/end`, the SDK's `/api/2/session`): reads the browser's session, records its logout
 * through LogoutService (which ends the session), clears the cookie, and `finish`es the answer:
 * the redirect wait, the front-channel iframes, the redirect.
 */
@Injectable()
export class BrowserLogout {
  constructor(
    @Inject(OIDC_PROVIDER) private readonly provider: Provider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logouts: LogoutService,
  ) {}

  /** The signed-in session named by the request's session cookie, if any. */
  async currentSession(req: Request, res: Response): Promise<BrowserSession | null> {
    const ctx = this.provider.createContext(req, res);
    const session = await this.provider.Session.get(ctx as never);
    return session.accountId ? { sid: session.uid, sub: session.accountId } : null;
  }

  /** Ends the browser's session (if there is one) and clears its cookie. */
  async endCurrentSession(
    req: Request,
    res: Response,
    trigger: LogoutTrigger,
    initiatorClientId: string | null,
  ): Promise<RecordedLogout | null> {
    const session = await this.currentSession(req, res);
    this.clearSessionCookie(res);
    if (!session) return null;
    return this.logouts.record({ trigger, sid: session.sid, sub: session.sub, initiatorClientId });
  }

  /**
   * Records an RP-initiated logout of one session, which ends it with every grant it held.
   * `grantIds`: the session's grants, as the provider may already have deleted its record.
   */
  recordRpInitiated(session: BrowserSession, initiatorClientId: string | null, grantIds: string[]): Promise<RecordedLogout> {
    return this.logouts.record({
      trigger: 'rp_initiated',
      sid: session.sid,
      sub: session.sub,
      initiatorClientId,
      grantIds,
    });
  }

  /**
   * The tail of every browser logout that answers with a page or a redirect. First waits, within
   * LOGOUT_REDIRECT_WAIT_MS, until the application the user is sent back to (`returningClientId`)
   * was told — or every participant, with LOGOUT_REDIRECT_WAIT_FOR=all — so the user lands on an
   * app that already ended its session; when the budget runs out it goes ahead, whatever happened.
   * Then, if clients of the ended session registered a frontchannel_logout_uri, answers with the
   * signed-out page that loads their iframes and continues to `returnTo`; otherwise redirects to
   * `returnTo` (without one, the answer is left as it is).
   */
  async finish(
    answer: LogoutAnswer,
    recorded: RecordedLogout | null,
    returningClientId: string | null,
    returnTo: string | null,
  ): Promise<void> {
    await this.awaitDeliveries(recorded, returningClientId);
    const frames = this.frontchannelFrames(recorded);
    if (frames.length) answer.page(loggedOutPage(frames, returnTo));
    else if (returnTo) answer.redirect(returnTo);
  }

  private async awaitDeliveries(recorded: RecordedLogout | null, returningClientId: string | null): Promise<void> {
    const { redirectWaitMs: budget, redirectWaitFor: what } = this.config.logout;
    if (!recorded || budget <= 0) return;
    if (what === 'returning_client' && !returningClientId) return;
    await this.logouts.waitForDeliveries(recorded, budget, what === 'all' ? undefined : returningClientId!);
  }

  /** One iframe per client of the ended session with a frontchannel_logout_uri, with iss and sid. */
  private frontchannelFrames(recorded: RecordedLogout | null): FrontchannelFrame[] {
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

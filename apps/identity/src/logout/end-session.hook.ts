import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { sessionGrantIds, SessionGrants } from '@slo/sessions';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { OIDC_PROVIDER } from '../oidc/oidc-provider.token';
import { BrowserLogout } from './browser-logout.service';
import { acceptPostAsGet } from './end-session-form';
import { koaAnswer } from './logout-answer';

interface EndingSession extends SessionGrants {
  uid: string;
  accountId?: string;
  state?: { clientId?: string };
  destroy(): Promise<void>;
}

interface IdTokenHint {
  payload: { aud?: string | string[]; sub?: string; sid?: string };
}

/**
 * RP-initiated logout (the provider's end_session, OIDC RP-Initiated Logout 1.0):
 *
 * - `POST /session/end` is accepted like `GET` (end-session-form.ts), so the provider's own checks
 *   (id_token_hint, client, post_logout_redirect_uri, duplicates) apply unchanged.
 * - Once the provider confirmed a logout (`/session/end/confirm` with `logout=yes`), it is
 *   recorded through LogoutService before the response leaves: the same revocation as
 *   `GET /logout` (every grant the session held, offline_access included; the provider itself
 *   keeps those), the back channel, and front-channel iframes before the redirect
 *   (BrowserLogout.finish, as for `GET /logout`).
 * - A request without a signed-in session cookie (a cross-site POST: the Lax cookie is not sent)
 *   but with a valid `id_token_hint` ends the session the hint names, when that session is still
 *   alive, belongs to the hint's `sub` and the hint's client takes part in it. The hint, signed
 *   by us for that client and that session, is the proof a cookie would otherwise give.
 */
@Injectable()
export class EndSessionHook implements OnModuleInit {
  constructor(
    @Inject(OIDC_PROVIDER) private readonly provider: Provider,
    private readonly browserLogout: BrowserLogout,
  ) {}

  onModuleInit(): void {
    this.provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
      const restore = await acceptPostAsGet(ctx);
      if (restore === null) return;
      try {
        await next();
      } finally {
        restore();
      }
      if (ctx.oidc?.route === 'end_session') await this.endSessionNamedByHint(ctx);
      else if (ctx.oidc?.route === 'end_session_confirm') await this.recordConfirmedLogout(ctx);
    });
  }

  /** After the provider ended the browser's session: record it, with the grants the session held. */
  private async recordConfirmedLogout(ctx: KoaContextWithOIDC): Promise<void> {
    if (ctx.status !== 303 || !ctx.oidc.params?.logout) return;
    const session = ctx.oidc.session as unknown as EndingSession | undefined;
    if (!session?.accountId) return;
    const initiator = session.state?.clientId ?? null;
    // The provider already deleted the session record and revoked the grants it does not keep past
    // a logout; the session object still lists every grant, so the rest (offline_access) goes too.
    const recorded = await this.browserLogout.recordRpInitiated(
      { sid: session.uid, sub: session.accountId },
      initiator,
      sessionGrantIds(session),
    );
    await this.browserLogout.finish(koaAnswer(ctx), recorded, initiator, ctx.response.get('location') || null);
  }

  /**
   * `end_session` answered for a browser without a signed-in session, with a valid id_token_hint
   * (the provider verified its signature, issuer and audience): end the session the hint names.
   */
  private async endSessionNamedByHint(ctx: KoaContextWithOIDC): Promise<void> {
    const hint = ctx.oidc.entities.IdTokenHint as IdTokenHint | undefined;
    const browser = ctx.oidc.session as unknown as EndingSession | undefined;
    if (ctx.status !== 200 || !hint || !ctx.oidc.client || browser?.accountId) return;
    const { sid, sub } = hint.payload;
    const clientId = ctx.oidc.client.clientId;
    if (typeof sid !== 'string' || !sid || typeof sub !== 'string') return;
    const named = (await this.provider.Session.findByUid(sid)) as unknown as EndingSession | undefined;
    if (!named?.accountId || named.accountId !== sub || !named.authorizations?.[clientId]) return;

    const recorded = await this.browserLogout.recordRpInitiated({ sid, sub }, clientId, sessionGrantIds(named));
    // The provider opened an empty session for this browser to carry its confirmation step: not needed.
    await browser?.destroy();
    const cookie = this.provider.cookieName('session');
    const kept = ([] as string[]).concat(ctx.response.get('set-cookie') || []).filter((c) => !c.startsWith(`${cookie}`));
    ctx.remove('set-cookie');
    if (kept.length) ctx.set('set-cookie', kept);
    ctx.cookies.set(cookie, null, { path: '/', httpOnly: true, sameSite: 'lax', signed: true, secure: ctx.secure });

    const { post_logout_redirect_uri: back, state } = ctx.oidc.params as { post_logout_redirect_uri?: string; state?: string };
    let target = ctx.oidc.urlFor('end_session_success');
    if (back) {
      const url = new URL(back);
      if (state) url.searchParams.set('state', state);
      target = url.href;
    }
    await this.browserLogout.finish(koaAnswer(ctx), recorded, clientId, target);
  }
}

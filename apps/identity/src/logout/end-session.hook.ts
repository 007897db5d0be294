import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { RecordedLogout } from '@slo/logout';
import type { IncomingMessage } from 'node:http';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { page, escapeHtml } from '../oidc/html';
import { OIDC_PROVIDER } from '../oidc/oidc-provider.token';
import { OIDC_ROUTES } from '../oidc/provider-routes';
import { IdentityLogoutService } from './identity-logout.service';
import { loggedOutPage } from './logout-pages';

interface EndingSession {
  uid: string;
  accountId?: string;
  authorizations?: Record<string, { grantId?: string }>;
  state?: { clientId?: string };
  destroy(): Promise<void>;
}

interface IdTokenHint {
  payload: { aud?: string | string[]; sub?: string; sid?: string };
}

/** The same limit oidc-provider puts on the form bodies of its own POST routes. */
const FORM_LIMIT_BYTES = 56 * 1024;
const FORM = 'application/x-www-form-urlencoded';

class FormError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads an urlencoded body with a size limit (oidc-provider's own body reader only runs inside its
 * routes, and the Express body parsers are skipped for provider paths, so the stream is untouched).
 */
async function readForm(req: IncomingMessage): Promise<string> {
  // The request-hygiene layer (libs/observability) has usually read and checked the form already.
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (typeof parsed === 'string') return parsed;
  const declared = req.headers['content-length'] ? Number(req.headers['content-length']) : undefined;
  if (declared !== undefined && declared > FORM_LIMIT_BYTES) throw new FormError(413, 'the request body is too large');
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > FORM_LIMIT_BYTES) throw new FormError(413, 'the request body is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('latin1');
}

/** The session's grants: revoked with the session, offline_access grants included. */
function grantIdsOf(session: EndingSession): string[] {
  return Object.values(session.authorizations ?? {})
    .map((a) => a.grantId)
    .filter((g): g is string => typeof g === 'string' && g.length > 0);
}

/**
 * RP-initiated logout (the provider's end_session, OIDC RP-Initiated Logout 1.0):
 *
 * - `POST /session/end` is accepted like `GET` (the specification requires both). oidc-provider
 *   serves POST only with `enableHttpPostMethods`, which demands `SameSite=None` session cookies
 *   for the whole provider; instead the form body becomes the query of a GET, so the provider's
 *   own checks (id_token_hint, client, post_logout_redirect_uri, duplicates) apply unchanged.
 * - Once the provider confirmed a logout (`/session/end/confirm` with `logout=yes`), it is
 *   recorded through LogoutService before the response leaves: the same revocation as
 *   `GET /logout` (every grant the session held, offline_access included; the provider itself
 *   keeps those), the back channel, and front-channel iframes before the redirect.
 * - A request without a signed-in session cookie (a cross-site POST: the Lax cookie is not sent)
 *   but with a valid `id_token_hint` ends the session the hint names, when that session is still
 *   alive, belongs to the hint's `sub` and the hint's client takes part in it. The hint, signed
 *   by us for that client and that session, is the proof a cookie would otherwise give.
 */
@Injectable()
export class EndSessionHook implements OnModuleInit {
  constructor(
    @Inject(OIDC_PROVIDER) private readonly provider: Provider,
    private readonly logout: IdentityLogoutService,
  ) {}

  onModuleInit(): void {
    this.provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
      const restore = await this.acceptPost(ctx);
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

  /**
   * `POST /session/end`: the form body becomes the query of a GET. Returns how to undo the
   * rewrite once the provider answered (so logs show the request as it came), or null when the
   * request was answered here (a body that is not a form).
   */
  private async acceptPost(ctx: KoaContextWithOIDC): Promise<(() => void) | null> {
    if (ctx.method !== 'POST' || ctx.path !== OIDC_ROUTES.end_session) return () => {};
    const { url } = ctx;
    try {
      if (ctx.get('content-type') && !ctx.is(FORM)) {
        throw new FormError(400, `only ${FORM} bodies are accepted on POST ${OIDC_ROUTES.end_session}`);
      }
      const form = new URLSearchParams(await readForm(ctx.req));
      ctx.method = 'GET';
      ctx.url = `${ctx.path}?${form.toString()}`;
    } catch (err) {
      const status = err instanceof FormError ? err.status : 400;
      const message = err instanceof FormError ? err.message : 'the request body could not be read';
      ctx.status = status;
      ctx.type = 'html';
      ctx.set('cache-control', 'no-store');
      ctx.body = page(
        'Sign-out error',
        `<h1>Cannot sign out here</h1><p class="error" role="alert"><strong>invalid_request</strong>: ${escapeHtml(message)}</p>`,
      );
      return null;
    }
    return () => {
      ctx.method = 'POST';
      ctx.url = url;
    };
  }

  /** After the provider ended the browser's session: record it, with the grants the session held. */
  private async recordConfirmedLogout(ctx: KoaContextWithOIDC): Promise<void> {
    if (ctx.status !== 303 || !ctx.oidc.params?.logout) return;
    const session = ctx.oidc.session as unknown as EndingSession | undefined;
    if (!session?.accountId) return;
    const initiator = session.state?.clientId ?? null;
    // The provider already deleted the session record and revoked the grants it does not keep past
    // a logout; the session object still lists every grant, so the rest (offline_access) goes too.
    const recorded = await this.logout.record(
      'rp_initiated',
      { sid: session.uid, sub: session.accountId },
      initiator,
      grantIdsOf(session),
    );
    await this.finish(ctx, recorded, initiator, ctx.response.get('location') || null);
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

    const recorded = await this.logout.record('rp_initiated', { sid, sub }, clientId, grantIdsOf(named));
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
    ctx.status = 303;
    ctx.redirect(target);
    await this.finish(ctx, recorded, clientId, target);
  }

  /** Waits for the deliveries as configured; shows front-channel iframes before the redirect when there are any. */
  private async finish(
    ctx: KoaContextWithOIDC,
    recorded: RecordedLogout,
    initiator: string | null,
    next: string | null,
  ): Promise<void> {
    await this.logout.awaitDeliveries(recorded, initiator);
    const frames = this.logout.frontchannelFrames(recorded);
    if (!frames.length) return;
    ctx.remove('location');
    ctx.status = 200;
    ctx.type = 'html';
    ctx.body = loggedOutPage(frames, next);
  }
}

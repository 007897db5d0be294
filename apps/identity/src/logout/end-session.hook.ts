import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { OIDC_PROVIDER } from '../oidc/oidc-provider.factory';
import { IdentityLogoutService } from './identity-logout.service';
import { loggedOutPage } from './logout-pages';

interface EndingSession {
  uid: string;
  accountId?: string;
  state?: { clientId?: string };
}

/**
 * RP-initiated logout (the provider's end_session): once the provider has confirmed the logout,
 * record it through LogoutService before the response leaves, wait for the back channel if so
 * configured, and show front-channel iframes before the redirect when clients registered them.
 */
@Injectable()
export class EndSessionHook implements OnModuleInit {
  constructor(
    @Inject(OIDC_PROVIDER) private readonly provider: Provider,
    private readonly logout: IdentityLogoutService,
  ) {}

  onModuleInit(): void {
    this.provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
      await next();
      if (ctx.oidc?.route !== 'end_session_confirm' || ctx.status !== 303 || !ctx.oidc.params?.logout) return;
      const session = ctx.oidc.session as unknown as EndingSession | undefined;
      if (!session?.accountId) return;
      const initiator = session.state?.clientId ?? null;
      const recorded = await this.logout.record('rp_initiated', { sid: session.uid, sub: session.accountId }, initiator);
      await this.logout.awaitDeliveries(recorded, initiator);
      const frames = this.logout.frontchannelFrames(recorded);
      if (!frames.length) return;
      const next_ = ctx.response.get('location');
      ctx.remove('location');
      ctx.status = 200;
      ctx.type = 'html';
      ctx.body = loggedOutPage(frames, next_ || null);
    });
  }
}

import { Controller, Get, Header, Query, Req, Res } from '@nestjs/common';
import { ClientsService } from '@slo/clients';
import type { Request, Response } from 'express';
import { OIDC_ROUTES } from '../oidc/provider-routes';
import { AppLogout } from './app-logout.service';
import { BrowserLogout } from './browser-logout.service';
import { expressAnswer } from './logout-answer';
import { logoutErrorPage } from './logout-pages';
import { TokenChecks } from './token-checks';

/**
 * The original platform's redirect flow: `GET /logout?client_id=…[&redirect_uri=…][&oauth_token=…]`.
 * Ends the session named by the cookie, then redirects to a registered URI (exact match after the
 * query's one URL-decoding) or shows the signed-out page. Without a session it still redirects.
 */
@Controller('logout')
export class RedirectLogoutController {
  constructor(
    private readonly clients: ClientsService,
    private readonly browserLogout: BrowserLogout,
    private readonly tokenChecks: TokenChecks,
    private readonly appLogout: AppLogout,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async logoutRedirect(@Query() query: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const fail = (message: string) => void res.status(400).type('html').send(logoutErrorPage(message));
    const { client_id: clientId, redirect_uri: redirectUri, oauth_token: oauthToken } = query;
    if (typeof clientId !== 'string' || !clientId) return fail('client_id is required.');
    for (const [name, value] of Object.entries({ redirect_uri: redirectUri, oauth_token: oauthToken })) {
      if (value !== undefined && typeof value !== 'string') return fail(`${name} must be given once.`);
    }
    const client = await this.clients.findActive(clientId);
    if (!client) return fail('client_id is not a registered application.');
    const registered = [...client.redirectUris, ...client.postLogoutRedirectUris];
    if (redirectUri !== undefined && !registered.includes(redirectUri as string)) {
      return fail('redirect_uri is not registered for this application.');
    }

    if (typeof oauthToken === 'string' && oauthToken) {
      // Revoked only when it was issued to this client: another app's token is left alone.
      const token = await this.tokenChecks.findUserToken(oauthToken);
      if (token?.clientId === clientId) await this.appLogout.revokeGrant(token);
    }
    const recorded = await this.browserLogout.endCurrentSession(req, res, 'user_logout', clientId);
    const target = (redirectUri as string | undefined) ?? `${OIDC_ROUTES.end_session}/success`;
    await this.browserLogout.finish(expressAnswer(res), recorded, clientId, target);
  }
}

import { Body, Controller, Get, Header, HttpCode, Inject, Param, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { UsersService } from '@slo/accounts';
import type { Request, Response } from 'express';
import type Provider from 'oidc-provider';
import { OIDC_PROVIDER } from '../oidc/oidc-provider.factory';
import { InteractionErrorFilter } from './interaction-error.filter';
import { renderLoginPage } from './login-page';

/** The same words for unknown e-mail and wrong password. */
export const LOGIN_FAILED = 'The e-mail address or password is incorrect.';

/** Login interaction of the OpenID Provider: server-rendered form, no JavaScript needed. */
@ApiExcludeController()
@UseFilters(InteractionErrorFilter)
@Controller('interaction')
export class InteractionController {
  constructor(
    @Inject(OIDC_PROVIDER) private readonly provider: Provider,
    private readonly users: UsersService,
  ) {}

  @Get(':uid')
  @Header('Cache-Control', 'no-store')
  async show(@Param('uid') uid: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const details = await this.provider.interactionDetails(req, res);
    if (details.uid !== uid) {
      res
        .status(400)
        .type('html')
        .send(renderLoginPage({ uid: details.uid, clientName: '', error: 'This sign-in link has expired; start again.' }));
      return;
    }
    if (details.prompt.name === 'consent') {
      await this.grantConsent(details, req, res);
      return;
    }
    const client = await this.provider.Client.find(String(details.params.client_id));
    res.type('html').send(renderLoginPage({ uid, clientName: client?.clientName ?? String(details.params.client_id) }));
  }

  /**
   * Registered clients are the platform's own applications: consent (e.g. to offline_access) is
   * implied once the user has signed in, so the consent prompt completes without a page.
   */
  private async grantConsent(
    details: Awaited<ReturnType<Provider['interactionDetails']>>,
    req: Request,
    res: Response,
  ): Promise<void> {
    const accountId = details.session?.accountId;
    if (!accountId) throw new Error('consent prompt without a signed-in session');
    const { Grant } = this.provider;
    const grant =
      (details.grantId ? await Grant.find(details.grantId) : undefined) ??
      new Grant({ accountId, clientId: String(details.params.client_id) });
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (missing.missingOIDCScope?.length) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims?.length) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    await this.provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  @Post(':uid/login')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async login(
    @Param('uid') uid: string,
    @Body() body: Record<string, unknown>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const details = await this.provider.interactionDetails(req, res);
    const email = typeof body.email === 'string' ? body.email.slice(0, 320) : '';
    const password = typeof body.password === 'string' ? body.password.slice(0, 1024) : '';
    const client = await this.provider.Client.find(String(details.params.client_id));
    const clientName = client?.clientName ?? String(details.params.client_id);
    if (details.uid !== uid || details.prompt.name !== 'login') {
      res
        .status(400)
        .type('html')
        .send(renderLoginPage({ uid, clientName, error: 'This sign-in link has expired; start again.' }));
      return;
    }
    const user = email && password ? await this.users.verifyCredentials(email, password) : null;
    if (!user) {
      res
        .status(401)
        .type('html')
        .send(renderLoginPage({ uid, clientName, email, error: LOGIN_FAILED }));
      return;
    }
    await this.provider.interactionFinished(req, res, { login: { accountId: user.id } }, { mergeWithLastSubmission: false });
  }

  @Post(':uid/abort')
  async abort(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'the user cancelled the sign-in' },
      { mergeWithLastSubmission: false },
    );
  }
}

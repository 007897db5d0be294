import { Body, Controller, Get, Header, HttpCode, Inject, Param, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { normaliseEmail, UsersService } from '@slo/accounts';
import { RateLimited, RateLimits } from '@slo/ratelimit';
import type { Request, Response } from 'express';
import { errors } from 'oidc-provider';
import type Provider from 'oidc-provider';
import { impliedGrant } from '../oidc/implied-grant';
import { OIDC_PROVIDER } from '../oidc/oidc-provider.token';
import { InteractionErrorFilter } from './interaction-error.filter';
import { renderLoginPage } from './login-page';

/** The same words for unknown e-mail and wrong password. */
const LOGIN_FAILED = 'The e-mail address or password is incorrect.';

/** Login interaction of the OpenID Provider: server-rendered form, no JavaScript needed. */
@ApiExcludeController()
@UseFilters(InteractionErrorFilter)
@Controller('interaction')
export class InteractionController {
  constructor(
    @Inject(OIDC_PROVIDER) private readonly provider: Provider,
    private readonly users: UsersService,
    private readonly limits: RateLimits,
  ) {}

  @Get(':uid')
  @Header('Cache-Control', 'no-store')
  async show(@Param('uid') uid: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const details = await this.provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new errors.InvalidRequest('this sign-in link is not the current sign-in');
    if (details.prompt.name === 'consent') {
      await this.grantConsent(details, req, res);
      return;
    }
    const client = await this.provider.Client.find(String(details.params.client_id));
    res.type('html').send(renderLoginPage({ uid, clientName: client?.clientName ?? String(details.params.client_id) }));
  }

  /** The consent prompt (e.g. an explicit prompt=consent) completes without a page: consent is implied. */
  private async grantConsent(
    details: Awaited<ReturnType<Provider['interactionDetails']>>,
    req: Request,
    res: Response,
  ): Promise<void> {
    const accountId = details.session?.accountId;
    if (!accountId) throw new errors.InvalidRequest('consent prompt without a signed-in session');
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    const grant = await impliedGrant(
      this.provider,
      { grantId: details.grantId, accountId, clientId: String(details.params.client_id) },
      missing.missingOIDCScope ?? [],
      missing.missingOIDCClaims ?? [],
    );
    await this.provider.interactionFinished(req, res, { consent: { grantId: grant.jti } }, { mergeWithLastSubmission: true });
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
    if (details.uid !== uid || details.prompt.name !== 'login') {
      throw new errors.InvalidRequest('this sign-in link is not the current sign-in');
    }
    const client = await this.provider.Client.find(String(details.params.client_id));
    const clientName = client?.clientName ?? String(details.params.client_id);
    if (!email || !password) {
      res
        .status(401)
        .type('html')
        .send(renderLoginPage({ uid, clientName, email, error: LOGIN_FAILED }));
      return;
    }
    // Counted before argon2: a refused attempt costs no password hashing.
    const attempt = await this.limits.login.begin(normaliseEmail(email), req.ip);
    const tooMany = (limited: RateLimited) => {
      res.setHeader('Retry-After', String(limited.retryAfterSeconds));
      res
        .status(429)
        .type('html')
        .send(renderLoginPage({ uid, clientName, email, error: limited.message }));
    };
    if (attempt instanceof RateLimited) return tooMany(attempt);
    const user = await this.users.verifyCredentials(email, password);
    if (!user) {
      const locked = await attempt.failed();
      if (locked) return tooMany(locked);
      res
        .status(401)
        .type('html')
        .send(renderLoginPage({ uid, clientName, email, error: LOGIN_FAILED }));
      return;
    }
    await attempt.succeeded();
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

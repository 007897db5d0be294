import { INestApplication } from '@nestjs/common';
import { AppConfig } from '@slo/config';
import { createHttpApp } from '@slo/app-shell';
import { ErrorBody, ErrorRendering } from '@slo/errors';
import { printableName } from '@slo/observability';
import type { Request } from 'express';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { IdentityModule } from './identity.module';
import { errorPage } from './oidc/html';
import { OIDC_PROVIDER } from './oidc/oidc-provider.token';
import { isBrowserRoute, isOAuthEndpoint, isProviderPath } from './oidc/provider-routes';

/** Sign-in and logout pages answer errors as HTML pages; OAuth endpoints add `error_description`. */
const IDENTITY_ERRORS: ErrorRendering = {
  isBrowserRoute,
  htmlPage: errorPage,
  jsonExtras: (req, _status, body) =>
    isOAuthEndpoint(req)
      ? { error: body.error === 'validation_failed' ? 'invalid_request' : body.error, error_description: body.message }
      : undefined,
};

/** Builds the identity app (used by main.ts and by the end-to-end tests). */
export async function createIdentityApp(config: AppConfig): Promise<INestApplication> {
  // oidc-provider parses the bodies of its own routes (the hygiene layer checks them first).
  const app = await createHttpApp(IdentityModule, config, {
    bodies: true,
    skipBody: (req) => isProviderPath(req.path),
    errors: IDENTITY_ERRORS,
  });
  app.get<Provider>(OIDC_PROVIDER).use(answerUnknownProviderRoutes);
  return app;
}

/** A method or path under a provider prefix that oidc-provider does not serve: a 404 naming it, not Koa's bare "Not Found". */
async function answerUnknownProviderRoutes(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  await next();
  if (ctx.status !== 404 || ctx.body != null) return;
  const req = ctx.req as Request;
  const body: ErrorBody = {
    error: 'not_found',
    message: `${ctx.method} ${printableName(ctx.path)} is not an endpoint of this service`,
  };
  ctx.status = 404;
  ctx.set('Cache-Control', 'no-store');
  if (isBrowserRoute(req)) {
    ctx.type = 'html';
    ctx.body = errorPage(404, body);
  } else {
    ctx.body = { ...body, ...IDENTITY_ERRORS.jsonExtras!(req, 404, body) };
  }
}

import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import { classifyOutage, Dependency, outageMessage, outages, RETRY_AFTER_SECONDS } from '@slo/errors';
import type { NextFunction, Request, Response } from 'express';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { escapeHtml, page } from './html';
import { OIDC_PROVIDER } from './oidc-provider.token';
import { isProviderPath } from './provider-routes';

/** Where a provider route's `server_error` leaves the store that caused it. */
const OUTAGE = Symbol('slo-outage');

/**
 * Provider routes answer 503 while a store they need is down, instead of oidc-provider's 500
 * `server_error`: JSON `{ error: "temporarily_unavailable" (RFC 6749 §4.1.2.1), error_description,
 * dependency }` for API clients (/token...), an HTML page for browsers (/auth, end_session), with
 * Retry-After either way.
 */
function answerOutage(ctx: KoaContextWithOIDC, dependency: Dependency, err: unknown): void {
  outages.reportFailure(dependency, err);
  const message = outageMessage(dependency);
  ctx.status = 503;
  ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
  ctx.set('Cache-Control', 'no-store');
  if (ctx.accepts('json', 'html') === 'html') {
    ctx.type = 'html';
    ctx.body = page(
      'Temporarily unavailable',
      `<h1>Temporarily unavailable</h1><p class="error" role="alert">${escapeHtml(message)}</p>` +
        `<p class="muted">Please try again in a few seconds.</p>`,
    );
  } else {
    ctx.type = 'json';
    ctx.body = { error: 'temporarily_unavailable', error_description: message, dependency };
  }
}

/**
 * The outermost provider middleware: errors that escape the provider's own handlers, and
 * `server_error`s the provider rendered itself (it emits the cause first), become a 503 when a
 * store is unreachable.
 */
function outageMiddleware() {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    try {
      await next();
    } catch (err) {
      const dependency = classifyOutage(err);
      if (!dependency) throw err;
      return answerOutage(ctx, dependency, err);
    }
    const seen = (ctx.state as Record<symbol, { dependency: Dependency; err: unknown } | undefined>)[OUTAGE];
    if (seen && ctx.status >= 500) answerOutage(ctx, seen.dependency, seen.err);
  };
}

/** Hands provider routes (/auth, /token, /jwks, discovery, ...) to oidc-provider; the rest to Nest. */
@Injectable()
export class OidcMiddleware implements NestMiddleware {
  private callback?: (req: Request, res: Response) => void;

  constructor(@Inject(OIDC_PROVIDER) private readonly provider: Provider) {
    // Outermost (before what provider.use added), so it also sees errors of the other provider middleware.
    (provider as unknown as { middleware: unknown[] }).middleware.unshift(outageMiddleware());
    provider.on('server_error', (ctx: KoaContextWithOIDC, err: unknown) => {
      const dependency = classifyOutage(err);
      if (dependency) (ctx.state as Record<symbol, unknown>)[OUTAGE] = { dependency, err };
    });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    if (!isProviderPath(req.originalUrl.split('?')[0])) return next();
    // Nest mounts middleware under a wildcard path; give the provider the untouched URL and an empty mount.
    req.url = req.originalUrl;
    req.baseUrl = '';
    // Composed on first use, after every module added its provider middleware (Koa fixes the chain in callback()).
    this.callback ??= this.provider.callback() as never;
    this.callback!(req, res);
  }
}

import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type Provider from 'oidc-provider';
import { OIDC_PROVIDER } from './oidc-provider.factory';
import { isProviderPath } from './provider-routes';

/** Hands provider routes (/auth, /token, /jwks, discovery, ...) to oidc-provider; the rest to Nest. */
@Injectable()
export class OidcMiddleware implements NestMiddleware {
  private callback?: (req: Request, res: Response) => void;

  constructor(@Inject(OIDC_PROVIDER) private readonly provider: Provider) {}

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

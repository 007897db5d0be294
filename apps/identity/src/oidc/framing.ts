import type { NextFunction, Request, Response } from 'express';

/**
 * No identity page may be shown inside another site's frame (clickjacking of the login form or
 * the logout confirmation): `frame-ancestors 'none'` for current browsers, `X-Frame-Options: DENY`
 * for older ones. Set on every identity response, so that Nest pages (login, logout, errors) and
 * oidc-provider's own pages (logout confirm, error) carry it alike; no identity page is meant to
 * be framed (the browser SDK talks to identity with fetch, and the logout pages frame the
 * applications, not the other way round).
 */
export function denyFraming(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
  res.setHeader('X-Frame-Options', 'DENY');
  next();
}

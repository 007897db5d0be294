import type { Request } from 'express';

/** Paths served by oidc-provider; everything else is a Nest route. */
export const OIDC_ROUTES = {
  authorization: '/auth',
  token: '/token',
  jwks: '/jwks',
  userinfo: '/me',
  revocation: '/token/revocation',
  introspection: '/token/introspection',
  end_session: '/session/end',
} as const;

const PREFIXES = [...Object.values(OIDC_ROUTES), '/.well-known/openid-configuration'];

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

export function isProviderPath(path: string): boolean {
  return PREFIXES.some((p) => under(path, p));
}

/** The request's path as sent (Nest middleware may have rewritten `req.path`). */
function pathOf(req: Request): string {
  return (req.originalUrl ?? req.url).split('?')[0];
}

/**
 * Routes a person's browser navigates to: errors there answer an HTML page, not JSON. The sign-in
 * interaction, the authorization endpoint, RP-initiated logout and the original `GET /logout`.
 */
export function isBrowserRoute(req: Request): boolean {
  const path = pathOf(req);
  if (under(path, '/interaction') || under(path, OIDC_ROUTES.authorization) || under(path, OIDC_ROUTES.end_session)) {
    return true;
  }
  return under(path, '/logout');
}

/** OAuth endpoints called by programs: their JSON errors also carry `error_description` (RFC 6749 §5.2). */
export function isOAuthEndpoint(req: Request): boolean {
  const path = pathOf(req);
  return [OIDC_ROUTES.token, OIDC_ROUTES.userinfo, OIDC_ROUTES.jwks].some((p) => under(path, p));
}

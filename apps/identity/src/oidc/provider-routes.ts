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

export function isProviderPath(path: string): boolean {
  return PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
}

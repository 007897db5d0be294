import type { ClientEntity } from '@slo/database';
import type { ClientMetadata } from 'oidc-provider';

/** OIDC scopes every relying party may request; server-token scopes come from the client's registration. */
export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email'];

/**
 * How oidc-provider sees a registered client. `client_secret` carries the stored hash: the
 * provider's secret comparison is replaced by a hash comparison (see oidc-provider.factory).
 */
export function toOidcClientMetadata(c: ClientEntity): ClientMetadata {
  const confidential = c.tokenEndpointAuthMethod !== 'none';
  return {
    client_id: c.clientId,
    client_secret: confidential ? (c.secretHash ?? undefined) : undefined,
    client_name: c.name,
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    grant_types: c.grantTypes,
    response_types: c.grantTypes.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    id_token_signed_response_alg: c.idTokenSignedResponseAlg as ClientMetadata['id_token_signed_response_alg'],
    scope: [...OIDC_SCOPES, ...c.serverScopes].join(' '),
    web_origins: c.webOrigins,
  };
}

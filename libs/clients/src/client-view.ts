import type { ClientEntity } from '@slo/database';

/** The api's representation of a client (never includes the secret or its hash). */
export interface ClientView {
  client_id: string;
  client_name: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  web_origins: string[];
  backchannel_logout_uri: string | null;
  backchannel_logout_session_required: boolean;
  frontchannel_logout_uri: string | null;
  grant_types: string[];
  token_endpoint_auth_method: string;
  server_scopes: string[];
  id_token_signed_response_alg: string;
  status: string;
  status_reason: string | null;
  created_at: string;
  updated_at: string;
  secret_rotated_at: string | null;
}

export function toClientView(c: ClientEntity): ClientView {
  return {
    client_id: c.clientId,
    client_name: c.name,
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    web_origins: c.webOrigins,
    backchannel_logout_uri: c.backchannelLogoutUri,
    backchannel_logout_session_required: c.backchannelLogoutSessionRequired,
    frontchannel_logout_uri: c.frontchannelLogoutUri,
    grant_types: c.grantTypes,
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    server_scopes: c.serverScopes,
    id_token_signed_response_alg: c.idTokenSignedResponseAlg,
    status: c.status,
    status_reason: c.statusReason,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
    secret_rotated_at: c.secretRotatedAt?.toISOString() ?? null,
  };
}

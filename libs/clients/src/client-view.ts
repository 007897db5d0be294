import type { ClientEntity } from '@slo/database';
import type { ClientFields } from './client-input';

/** A stored client's registration fields, in the api's snake_case vocabulary. */
export function clientFieldsOf(c: ClientEntity): ClientFields {
  return {
    client_name: c.name,
    redirect_uris: c.redirectUris,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
    web_origins: c.webOrigins,
    backchannel_logout_uri: c.backchannelLogoutUri,
    backchannel_logout_session_required: c.backchannelLogoutSessionRequired,
    frontchannel_logout_uri: c.frontchannelLogoutUri,
    grant_types: c.grantTypes as ClientFields['grant_types'],
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    server_scopes: c.serverScopes as ClientFields['server_scopes'],
    id_token_signed_response_alg: c.idTokenSignedResponseAlg as ClientFields['id_token_signed_response_alg'],
    delivery_format: c.deliveryFormat,
    logout_token_typ: c.logoutTokenTyp,
    logout_token_subject: c.logoutTokenSubject,
    delivery_timeout_ms: c.deliveryTimeoutMs,
    delivery_max_attempts: c.deliveryMaxAttempts,
    notify_session_expired: c.notifySessionExpired,
  };
}

/** The api's representation of a client (never includes the secret or its hash). */
export type ClientView = { client_id: string } & ClientFields & {
    status: string;
    status_reason: string | null;
    created_at: string;
    updated_at: string;
    secret_rotated_at: string | null;
    endpoint_status: string;
    endpoint_status_reason: string | null;
    endpoint_status_changed_at: string | null;
  };

/** A view plus the webhook secret when one was just issued (shown this once). */
export type ClientViewWithWebhookSecret = ClientView & { webhook_secret?: string };

export function withIssuedWebhookSecret(c: ClientEntity, webhookSecret: string | null): ClientViewWithWebhookSecret {
  return { ...toClientView(c), ...(webhookSecret ? { webhook_secret: webhookSecret } : {}) };
}

export function toClientView(c: ClientEntity): ClientView {
  return {
    client_id: c.clientId,
    ...clientFieldsOf(c),
    status: c.status,
    status_reason: c.statusReason,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
    secret_rotated_at: c.secretRotatedAt?.toISOString() ?? null,
    endpoint_status: c.endpointStatus,
    endpoint_status_reason: c.endpointStatusReason,
    endpoint_status_changed_at: c.endpointStatusChangedAt?.toISOString() ?? null,
  };
}

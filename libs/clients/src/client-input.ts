import type { DeliveryFormat, LogoutTokenSubject, LogoutTokenTyp, TokenEndpointAuthMethod } from '@slo/database';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export const SERVER_SCOPES = ['admin', 'client:self', 'logout:emit'] as const;
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;
export const ID_TOKEN_ALGS = ['RS256', 'ES256'] as const;
export const MAX_URIS = 20;
export const DELIVERY_FORMATS: DeliveryFormat[] = ['logout_token', 'webhook'];
export const LOGOUT_TOKEN_TYPS: LogoutTokenTyp[] = ['logout+jwt', 'JWT'];
export const LOGOUT_TOKEN_SUBJECTS: LogoutTokenSubject[] = ['sid_and_sub', 'sid'];

export type GrantType = (typeof GRANT_TYPES)[number];
export type ServerScope = (typeof SERVER_SCOPES)[number];

/** Registration fields as the api receives them (snake_case, OIDC registration style). */
export interface ClientFields {
  client_name: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  web_origins: string[];
  backchannel_logout_uri: string | null;
  backchannel_logout_session_required: boolean;
  frontchannel_logout_uri: string | null;
  grant_types: GrantType[];
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  server_scopes: ServerScope[];
  id_token_signed_response_alg: (typeof ID_TOKEN_ALGS)[number];
  /** How logouts reach backchannel_logout_uri: an OIDC logout token or a Standard Webhooks JSON message. */
  delivery_format: DeliveryFormat;
  logout_token_typ: LogoutTokenTyp;
  /** `sid_and_sub` (default) or `sid`: logout tokens naming a session leave out `sub`. */
  logout_token_subject: LogoutTokenSubject;
  /** Overrides of the deployment's delivery timeout and attempt count; null: the defaults. */
  delivery_timeout_ms: number | null;
  delivery_max_attempts: number | null;
  /** Be told when a session ends by expiry, not only by logout. */
  notify_session_expired: boolean;
}

export type CreateClientInput = Partial<ClientFields> & { client_id?: string; client_name: string };
export type UpdateClientInput = Partial<ClientFields>;

import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type ClientStatus = 'active' | 'disabled';
export type EndpointStatus = 'active' | 'disabled';
export type DeliveryFormat = 'logout_token' | 'webhook';
export type LogoutTokenTyp = 'logout+jwt' | 'JWT';
/** What a logout token names: the session and the user (`sid_and_sub`), or the session alone (`sid`). */
export type LogoutTokenSubject = 'sid_and_sub' | 'sid';
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

/** A registered client application (relying party and/or server-token holder). */
@Entity({ name: 'clients' })
@Index('clients_created_at_idx', ['createdAt', 'clientId'])
export class ClientEntity {
  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 100 })
  clientId: string;

  /** `sha256:<hex>` of the secret; null for public clients (auth method `none`). */
  @Column({ name: 'secret_hash', type: 'varchar', length: 200, nullable: true })
  secretHash: string | null;

  @Column({ name: 'name', type: 'varchar', length: 200 })
  name: string;

  @Column({ name: 'redirect_uris', type: 'text', array: true, default: () => "'{}'" })
  redirectUris: string[];

  @Column({ name: 'post_logout_redirect_uris', type: 'text', array: true, default: () => "'{}'" })
  postLogoutRedirectUris: string[];

  @Column({ name: 'web_origins', type: 'text', array: true, default: () => "'{}'" })
  webOrigins: string[];

  @Column({ name: 'backchannel_logout_uri', type: 'text', nullable: true })
  backchannelLogoutUri: string | null;

  @Column({ name: 'backchannel_logout_session_required', type: 'boolean', default: true })
  backchannelLogoutSessionRequired: boolean;

  @Column({ name: 'frontchannel_logout_uri', type: 'text', nullable: true })
  frontchannelLogoutUri: string | null;

  /** How logouts reach the back-channel endpoint: an OIDC logout token, or a signed JSON webhook. */
  @Column({ name: 'delivery_format', type: 'varchar', length: 20, default: 'logout_token' })
  deliveryFormat: DeliveryFormat;

  /** `typ` header of logout tokens (`JWT` for receivers predating Back-Channel Logout Errata 1). */
  @Column({ name: 'logout_token_typ', type: 'varchar', length: 20, default: 'logout+jwt' })
  logoutTokenTyp: LogoutTokenTyp;

  /**
   * `sid`: logout tokens that name a session carry `sid` without `sub`, for receivers (such as
   * express-openid-connect) that end every session of a `sub` they are given. A logout that names
   * no session still carries `sub`: Back-Channel Logout needs one of the two.
   */
  @Column({ name: 'logout_token_subject', type: 'varchar', length: 20, default: 'sid_and_sub' })
  logoutTokenSubject: LogoutTokenSubject;

  /** Whether the client is told when a session it took part in ends by expiry (trigger session_expired). */
  @Column({ name: 'notify_session_expired', type: 'boolean', default: true })
  notifySessionExpired: boolean;

  /** Per-client overrides of DELIVERY_TIMEOUT_MS and DELIVERY_MAX_ATTEMPTS. */
  @Column({ name: 'delivery_timeout_ms', type: 'integer', nullable: true })
  deliveryTimeoutMs: number | null;

  @Column({ name: 'delivery_max_attempts', type: 'integer', nullable: true })
  deliveryMaxAttempts: number | null;

  /** Standard Webhooks secret (`whsec_…`), sealed with the key-encryption key; only for webhook delivery. */
  @Column({ name: 'webhook_secret_enc', type: 'text', nullable: true })
  webhookSecretEnc: string | null;

  /** After a rotation: the previous webhook secret, still signed with until `webhookSecretPreviousUntil`. */
  @Column({ name: 'webhook_secret_previous_enc', type: 'text', nullable: true })
  webhookSecretPreviousEnc: string | null;

  @Column({ name: 'webhook_secret_previous_until', type: 'timestamptz', nullable: true })
  webhookSecretPreviousUntil: Date | null;

  /** The back-channel endpoint's own state: disabled (e.g. it answered 410) without disabling sign-in. */
  @Column({ name: 'endpoint_status', type: 'varchar', length: 20, default: 'active' })
  endpointStatus: EndpointStatus;

  @Column({ name: 'endpoint_status_reason', type: 'text', nullable: true })
  endpointStatusReason: string | null;

  @Column({ name: 'endpoint_status_changed_at', type: 'timestamptz', nullable: true })
  endpointStatusChangedAt: Date | null;

  @Column({ name: 'grant_types', type: 'text', array: true })
  grantTypes: string[];

  @Column({ name: 'token_endpoint_auth_method', type: 'varchar', length: 40 })
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;

  /** Server-token scopes this client may obtain with client_credentials (admin, client:self, logout:emit). */
  @Column({ name: 'server_scopes', type: 'text', array: true, default: () => "'{}'" })
  serverScopes: string[];

  @Column({ name: 'id_token_signed_response_alg', type: 'varchar', length: 10, default: 'RS256' })
  idTokenSignedResponseAlg: string;

  @Column({ name: 'status', type: 'varchar', length: 20, default: 'active' })
  status: ClientStatus;

  @Column({ name: 'status_reason', type: 'text', nullable: true })
  statusReason: string | null;

  @Column({ name: 'secret_rotated_at', type: 'timestamptz', nullable: true })
  secretRotatedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

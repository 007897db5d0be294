import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type ClientStatus = 'active' | 'disabled';
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

import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Storage of oidc-provider models (Session, Interaction, Grant, AuthorizationCode, tokens, ...). */
@Entity({ name: 'oidc_payloads' })
@Index('oidc_payloads_grant_idx', ['grantId'], { where: 'grant_id IS NOT NULL' })
@Index('oidc_payloads_uid_idx', ['uid'], { where: 'uid IS NOT NULL' })
@Index('oidc_payloads_user_code_idx', ['userCode'], { where: 'user_code IS NOT NULL' })
@Index('oidc_payloads_expires_idx', ['expiresAt'], { where: 'expires_at IS NOT NULL' })
export class OidcPayloadEntity {
  @PrimaryColumn({ name: 'model', type: 'varchar', length: 64 })
  model: string;

  @PrimaryColumn({ name: 'id', type: 'varchar', length: 255 })
  id: string;

  @Column({ name: 'payload', type: 'jsonb' })
  payload: Record<string, unknown>;

  @Column({ name: 'grant_id', type: 'varchar', length: 255, nullable: true })
  grantId: string | null;

  @Column({ name: 'user_code', type: 'varchar', length: 255, nullable: true })
  userCode: string | null;

  @Column({ name: 'uid', type: 'varchar', length: 255, nullable: true })
  uid: string | null;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'consumed_at', type: 'timestamptz', nullable: true })
  consumedAt: Date | null;
}

import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type SigningKeyState = 'next' | 'active' | 'retired';

/** A signing key of the identity service; the private JWK is encrypted with the key-encryption key. */
@Entity({ name: 'signing_keys' })
export class SigningKeyEntity {
  @PrimaryColumn({ name: 'kid', type: 'varchar', length: 64 })
  kid: string;

  @Column({ name: 'alg', type: 'varchar', length: 10 })
  alg: string;

  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk: Record<string, unknown>;

  /** AES-256-GCM envelope: `v1.<iv>.<tag>.<ciphertext>` (base64url parts). */
  @Column({ name: 'private_jwk_enc', type: 'text' })
  privateJwkEnc: string;

  @Column({ name: 'state', type: 'varchar', length: 10 })
  state: SigningKeyState;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt: Date | null;
}

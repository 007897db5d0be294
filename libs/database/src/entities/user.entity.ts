import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** An end user who logs in at the identity service. */
@Entity({ name: 'users' })
export class UserEntity {
  /** Stable subject identifier (`sub`), a UUIDv7. */
  @PrimaryColumn({ name: 'id', type: 'uuid' })
  id: string;

  /** Lower-cased e-mail address, the login name. */
  @Column({ name: 'email', type: 'varchar', length: 320, unique: true })
  email: string;

  @Column({ name: 'name', type: 'varchar', length: 200, nullable: true })
  name: string | null;

  /** argon2id PHC string. */
  @Column({ name: 'password_hash', type: 'text' })
  passwordHash: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export const LOGOUT_TRIGGERS = [
  'user_logout',
  'api_logout',
  'rp_initiated',
  'admin_revoke',
  'all_sessions',
  'session_expired',
  'external',
] as const;
export type LogoutTrigger = (typeof LOGOUT_TRIGGERS)[number];

/** One logout, by any route: what ended, why, and who asked. Its deliveries say who was told. */
@Entity({ name: 'logout_events' })
@Index('logout_events_created_at_idx', ['createdAt', 'id'])
@Index('logout_events_sub_idx', ['sub'])
@Index('logout_events_idempotency_idx', ['initiatorClientId', 'idempotencyKey'], {
  unique: true,
  where: 'idempotency_key IS NOT NULL',
})
export class LogoutEventEntity {
  /** UUIDv7: time-sortable, so "everything since T" is a range scan. */
  @PrimaryColumn({ name: 'id', type: 'uuid' })
  id: string;

  @Column({ name: 'trigger', type: 'varchar', length: 30 })
  trigger: LogoutTrigger;

  @Column({ name: 'sub', type: 'varchar', length: 255, nullable: true })
  sub: string | null;

  /** The session named by the request, if any (null: every session of `sub`). */
  @Column({ name: 'sid', type: 'varchar', length: 128, nullable: true })
  sid: string | null;

  /** Every session this logout ended (or, for external events, named). */
  @Column({ name: 'ended_sids', type: 'text', array: true, default: () => "'{}'" })
  endedSids: string[];

  @Column({ name: 'initiator_client_id', type: 'varchar', length: 100, nullable: true })
  initiatorClientId: string | null;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 255, nullable: true })
  idempotencyKey: string | null;

  /** SHA-256 of the request that carried the idempotency key: same key with another body is a conflict. */
  @Column({ name: 'request_hash', type: 'varchar', length: 64, nullable: true })
  requestHash: string | null;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

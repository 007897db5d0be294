import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { ClientEntity } from './client.entity';
import { LogoutEventEntity } from './logout-event.entity';

export const DELIVERY_STATUSES = ['pending', 'delivering', 'delivered', 'retrying', 'rejected', 'dead', 'skipped'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
/** States from which the worker will still send on its own. */
/**
 * One logout event told to one client (for one session, when the client needs a `sid` per session).
 * The source of truth for delivery state: the admin API reads this, never Redis.
 *
 * Partitioned by month on `id` (a UUIDv7, so its order is its creation time): the partitions,
 * `deliveries_pYYYYMM`, are made by the SQL function create_delivery_partitions (migration
 * PartitionedDeliveryHistory), which the worker calls ahead of time. A unique index on the parent
 * must hold the partition key, so (event_id, client_id, sid) is unique per partition (each
 * partition's `…_event_client_sid_key`): an event's deliveries are all written by one INSERT.
 */
@Entity({ name: 'deliveries' })
@Index('deliveries_client_created_idx', ['clientId', 'createdAt'])
@Index('deliveries_open_due_idx', ['nextAttemptAt'], { where: "status IN ('pending', 'delivering', 'retrying')" })
export class DeliveryEntity {
  /** UUIDv7, also the BullMQ job id (duplicates collapse) and the webhook-id. */
  @PrimaryColumn({ name: 'id', type: 'uuid' })
  id: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @ManyToOne(() => LogoutEventEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id' })
  event?: LogoutEventEntity;

  @Column({ name: 'client_id', type: 'varchar', length: 100 })
  clientId: string;

  @ManyToOne(() => ClientEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'client_id' })
  client?: ClientEntity;

  @Column({ name: 'sub', type: 'varchar', length: 255, nullable: true })
  sub: string | null;

  /** The session to name in the token; '' when the token names only `sub` (every session). */
  @Column({ name: 'sid', type: 'varchar', length: 128, default: '' })
  sid: string;

  @Column({ name: 'status', type: 'varchar', length: 20 })
  status: DeliveryStatus;

  /** Attempts made so far (scheduled and manual); sends skipped by the circuit breaker do not count. */
  @Column({ name: 'attempts', type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  /** While `delivering`: when the claim lapses (a worker that died mid-send). */
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil: Date | null;

  @Column({ name: 'last_attempt_at', type: 'timestamptz', nullable: true })
  lastAttemptAt: Date | null;

  @Column({ name: 'last_status_code', type: 'integer', nullable: true })
  lastStatusCode: number | null;

  /** Error class of the last failure (timeout, connection_refused, http_503, blocked_address, ...). */
  @Column({ name: 'last_error', type: 'varchar', length: 200, nullable: true })
  lastError: string | null;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

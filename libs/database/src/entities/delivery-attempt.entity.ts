import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { DeliveryEntity } from './delivery.entity';

export type AttemptTrigger = 'scheduled' | 'manual';
export type AttemptOutcome = 'delivered' | 'retry' | 'rejected' | 'dead';

/**
 * One HTTP attempt of a delivery, kept for operators: what was sent when, and what came back.
 * Partitioned like deliveries, on `delivery_id` with the same monthly bounds
 * (`delivery_attempts_pYYYYMM`): an attempt lives in the month of its delivery and goes with it.
 * Keys of a partitioned table hold the partition key, hence the primary key (id, delivery_id).
 */
@Entity({ name: 'delivery_attempts' })
@Index('delivery_attempts_delivery_number_key', ['deliveryId', 'number'], { unique: true })
@Index('delivery_attempts_started_at_idx', ['startedAt'])
export class DeliveryAttemptEntity {
  @PrimaryColumn({ name: 'id', type: 'uuid' })
  id: string;

  @PrimaryColumn({ name: 'delivery_id', type: 'uuid' })
  deliveryId: string;

  @ManyToOne(() => DeliveryEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'delivery_id' })
  delivery?: DeliveryEntity;

  @Column({ name: 'number', type: 'integer' })
  number: number;

  @Column({ name: 'trigger', type: 'varchar', length: 20 })
  trigger: AttemptTrigger;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs: number;

  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode: number | null;

  @Column({ name: 'error_class', type: 'varchar', length: 200, nullable: true })
  errorClass: string | null;

  @Column({ name: 'outcome', type: 'varchar', length: 20 })
  outcome: AttemptOutcome;

  /** The first bytes of the response body, as text. */
  @Column({ name: 'response_excerpt', type: 'text', nullable: true })
  responseExcerpt: string | null;
}

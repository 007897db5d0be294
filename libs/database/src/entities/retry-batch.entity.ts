import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export type RetryBatchState = 'queued' | 'running' | 'done' | 'cancelled';

/** A bulk retry: the deliveries it covers (fixed when created) and its progress. Runs in the worker. */
@Entity({ name: 'retry_batches' })
@Index('retry_batches_one_active_per_client', ['clientKey'], { unique: true, where: "state IN ('queued', 'running')" })
export class RetryBatchEntity {
  @PrimaryColumn({ name: 'id', type: 'uuid' })
  id: string;

  /** The client whose deliveries are retried; '' for a batch across clients. */
  @Column({ name: 'client_key', type: 'varchar', length: 100 })
  clientKey: string;

  /** The filter as requested (client_id, statuses, since, until). */
  @Column({ name: 'filter', type: 'jsonb' })
  filter: Record<string, unknown>;

  @Column({ name: 'delivery_ids', type: 'uuid', array: true })
  deliveryIds: string[];

  @Column({ name: 'state', type: 'varchar', length: 20 })
  state: RetryBatchState;

  @Column({ name: 'total', type: 'integer' })
  total: number;

  @Column({ name: 'done', type: 'integer', default: 0 })
  done: number;

  @Column({ name: 'succeeded', type: 'integer', default: 0 })
  succeeded: number;

  @Column({ name: 'failed', type: 'integer', default: 0 })
  failed: number;

  @Column({ name: 'requested_by', type: 'varchar', length: 100 })
  requestedBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}

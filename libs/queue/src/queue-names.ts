/** Every BullMQ queue of the coordinator, and the jobs each carries. One place to see them all. */
export const QueueName = {
  /** One job per delivery (job id = delivery id): mint, send, record, reschedule. */
  Delivery: 'delivery',
  /** One job per bulk retry batch (job id = batch id); runs beside, never ahead of, fresh deliveries. */
  RetryBatch: 'retry-batch',
  /** Periodic housekeeping: expired provider state, the outbox relay. */
  Maintenance: 'maintenance',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const DeliveryJob = {
  /** Send one delivery now (or when its delay ends). */
  Deliver: 'deliver',
} as const;
export type DeliveryJob = (typeof DeliveryJob)[keyof typeof DeliveryJob];

export interface DeliveryJobData {
  deliveryId: string;
  /** The delivery's client: the circuit breaker and endpoint limit are checked before the database is. */
  clientId: string;
}

export const RetryBatchJob = {
  Run: 'run-retry-batch',
} as const;

export interface RetryBatchJobData {
  batchId: string;
}

export const MaintenanceJob = {
  /** Deletes expired sessions, interactions, codes and tokens. */
  PurgeExpiredOidcState: 'purge-expired-oidc-state',
  /** Re-enqueues committed deliveries that are due but missing from the delivery queue. */
  RelayOutbox: 'relay-outbox',
  /** Records session_expired logouts for identity sessions past their expiry. */
  SweepExpiredSessions: 'sweep-expired-sessions',
  /** Disables endpoints that kept failing (ENDPOINT_AUTO_DISABLE_AFTER_SECONDS). */
  CheckEndpoints: 'check-endpoints',
  /** Deletes delivered deliveries past DELIVERY_RETENTION_DAYS. */
  PruneDeliveries: 'prune-deliveries',
  /** Activates published signing keys and unpublishes retired ones (key rotation). */
  AdvanceKeyRotation: 'advance-key-rotation',
} as const;
export type MaintenanceJob = (typeof MaintenanceJob)[keyof typeof MaintenanceJob];

/** Job name → payload type. */
export interface MaintenanceJobData {
  [MaintenanceJob.PurgeExpiredOidcState]: Record<string, never>;
  [MaintenanceJob.RelayOutbox]: Record<string, never>;
  [MaintenanceJob.SweepExpiredSessions]: Record<string, never>;
  [MaintenanceJob.CheckEndpoints]: Record<string, never>;
  [MaintenanceJob.PruneDeliveries]: Record<string, never>;
  [MaintenanceJob.AdvanceKeyRotation]: Record<string, never>;
}

/** Options every delivery job is added with. The job id makes a second enqueue of the same delivery a no-op. */
export function deliveryJobOptions(deliveryId: string, delayMs = 0) {
  return {
    jobId: deliveryId,
    delay: Math.max(0, delayMs),
    // Delivery state lives in PostgreSQL; finished jobs carry nothing worth keeping in Redis.
    removeOnComplete: true,
    // A job that crashed (database down...) is retried by BullMQ, then left for the relay to re-add.
    attempts: 5,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnFail: { age: 24 * 3600 },
  };
}

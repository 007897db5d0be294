/** Every BullMQ queue of the coordinator, and the jobs each carries. One place to see them all. */
export const QueueName = {
  /**
   * Sending (DeliveryJob): a fan-out job per logout event (job id from the event id) claims and
   * sends all of the event's open deliveries; a delivery that needs another attempt gets a delayed
   * job of its own; an operator's retry is a manual job. Spread over DELIVERY_SHARDS queues of this
   * name, each under a key prefix of its own (DeliveryShards, shards.ts); an event's jobs all go to its shard.
   */
  Delivery: 'delivery',
  /** One job per bulk retry batch (job id = batch id), in a queue of its own beside the delivery queue. */
  RetryBatch: 'retry-batch',
  /**
   * Periodic housekeeping (MaintenanceJob): expired provider state, the outbox relay, the
   * session-expiry sweep, failing endpoints, delivery retention, key rotation.
   */
  Maintenance: 'maintenance',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const DeliveryJob = {
  /** Claim every open delivery of one logout event and send them concurrently. */
  Fanout: 'fanout',
  /** One more attempt of one delivery (a retry, a held-back send, a recovered delivery). */
  Deliver: 'deliver',
  /** An operator's attempt now (POST /v1/deliveries/:id/retry); the api waits for its result. */
  Manual: 'manual',
} as const;
export type DeliveryJob = (typeof DeliveryJob)[keyof typeof DeliveryJob];

export interface FanoutJobData {
  eventId: string;
}

export interface DeliveryJobData {
  deliveryId: string;
  /** The delivery's client, for whoever reads the queue (the dashboard); the worker does not use it. */
  clientId: string;
  /** Attempts made when the job was scheduled: a job left over from an older schedule finds another number and does nothing. */
  attempts: number;
}

export interface ManualJobData {
  deliveryId: string;
  /** Send a delivered delivery again. */
  force: boolean;
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
  /** Drops the months of deliveries past DELIVERY_RETENTION_DAYS (whole partitions), and the events left without deliveries. */
  PruneDeliveries: 'prune-deliveries',
  /** Creates the month partitions of deliveries and delivery_attempts ahead (this month and the next two). */
  CreateDeliveryPartitions: 'create-delivery-partitions',
  /** Activates published signing keys and unpublishes retired ones (key rotation). */
  AdvanceKeyRotation: 'advance-key-rotation',
} as const;
export type MaintenanceJob = (typeof MaintenanceJob)[keyof typeof MaintenanceJob];

/** The fan-out job's id: a second enqueue of the same event collapses into the first. */
export const fanoutJobId = (eventId: string) => `event-${eventId}`;

/**
 * A delivery job's id names the attempt it is for (`attempts` made so far): a second enqueue for
 * the same attempt collapses, and a job left over from an earlier schedule has another id.
 */
export const deliveryJobId = (deliveryId: string, attempts: number) => `${deliveryId}-a${attempts}`;

const JOB_DEFAULTS = {
  // Delivery state lives in PostgreSQL; finished jobs carry nothing worth keeping in Redis.
  removeOnComplete: true,
  // A job that crashed (database down...) is retried by BullMQ, then left for the outbox relay to re-add.
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnFail: { age: 24 * 3600 },
};

/** Options every fan-out job is added with. */
export function fanoutJobOptions(eventId: string) {
  return { jobId: fanoutJobId(eventId), ...JOB_DEFAULTS };
}

/** Options every delivery job is added with. */
export function deliveryJobOptions(deliveryId: string, attempts: number, delayMs = 0) {
  return {
    jobId: deliveryJobId(deliveryId, attempts),
    delay: Math.max(0, delayMs),
    ...JOB_DEFAULTS,
  };
}

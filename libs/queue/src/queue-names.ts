/** Every BullMQ queue of the coordinator, and the jobs each carries. One place to see them all. */
export const QueueName = {
  /** Periodic housekeeping: expired provider state. */
  Maintenance: 'maintenance',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const MaintenanceJob = {
  /** Deletes expired sessions, interactions, codes and tokens. */
  PurgeExpiredOidcState: 'purge-expired-oidc-state',
} as const;
export type MaintenanceJob = (typeof MaintenanceJob)[keyof typeof MaintenanceJob];

/** Job name → payload type. */
export interface MaintenanceJobData {
  [MaintenanceJob.PurgeExpiredOidcState]: Record<string, never>;
}

import type { DeliveryStatus } from '@slo/database';

/** What became of one run of a delivery (the answer of a manual attempt). */
export type RunResult =
  | { kind: 'finished'; status: DeliveryStatus | 'not_open' }
  /** Another attempt is due at `at` (epoch ms): a scheduled retry, or a send held back by the breaker or the endpoint limit. */
  | { kind: 'later'; at: number; reason: 'retry' | 'breaker_open' | 'endpoint_busy' }
  /** A manual attempt that may not run now (in flight, already delivered, endpoint disabled or without a back-channel URI). */
  | { kind: 'refused' };

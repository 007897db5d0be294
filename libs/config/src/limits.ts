/**
 * Limits that more than one place enforces: the deployment's setting (settings/) and a client's
 * own override (libs/clients, the api's client DTO) share one range, and the sender relies on it.
 */

/** Per-request timeout of a back-channel delivery: DELIVERY_TIMEOUT_MS and a client's delivery_timeout_ms. */
export const DELIVERY_TIMEOUT_RANGE_MS = { min: 100, max: 60_000 } as const;

/** Scheduled attempts of one delivery: DELIVERY_MAX_ATTEMPTS and a client's delivery_max_attempts. */
export const DELIVERY_MAX_ATTEMPTS_RANGE = { min: 1, max: 100 } as const;

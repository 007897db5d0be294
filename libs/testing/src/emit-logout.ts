import { ApiClient } from './api-client';

/** The 202 answer of `POST /v1/logout-events`. */
interface EmittedLogout {
  event_id: string;
  deliveries: { id: string; client_id: string; status: string }[];
}

/**
 * Emits a logout event as an external platform would (`POST /v1/logout-events` with `emitter`'s
 * token), expecting 202 unless `opts.expect` says otherwise; returns the parsed answer.
 */
export function emitLogout<T = EmittedLogout>(
  emitter: ApiClient,
  body: unknown,
  opts: { headers?: Record<string, string>; expect?: number } = {},
): Promise<T> {
  return emitter.post<T>('/v1/logout-events', { body, headers: opts.headers, expect: opts.expect ?? 202 });
}

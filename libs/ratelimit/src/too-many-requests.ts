import { HttpException, HttpStatus } from '@nestjs/common';
import type { Response } from 'express';
import { RateLimited } from './rate-limits';

/** `{ error: "too_many_requests", message }` with Retry-After, for express handlers outside Nest. */
export function sendTooManyRequests(res: Response, limited: RateLimited): void {
  res.setHeader('Retry-After', String(limited.retryAfterSeconds));
  res.status(HttpStatus.TOO_MANY_REQUESTS).json({ error: 'too_many_requests', message: limited.message });
}

/**
 * For Nest routes and guards: sets Retry-After and throws; the exception filter answers
 * `{ error: "too_many_requests", message }` with status 429.
 */
export function throwTooManyRequests(res: Response, limited: RateLimited): never {
  res.setHeader('Retry-After', String(limited.retryAfterSeconds));
  throw new HttpException(limited.message, HttpStatus.TOO_MANY_REQUESTS);
}

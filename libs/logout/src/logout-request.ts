import type { LogoutTrigger } from '@slo/database';
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';

/** Everything any route knows about a logout it wants recorded. */
export interface LogoutRequest {
  trigger: LogoutTrigger;
  /** The subject; without `sid`, every session of the subject ends. */
  sub?: string | null;
  /** The one session that ends. */
  sid?: string | null;
  /** The client that asked (RP, api caller); null for the user or the system. */
  initiatorClientId?: string | null;
  /** Tell only these clients (external platforms name them); default: the clients of the ended session(s). */
  targetClientIds?: string[];
  /** Same key and request → the same event; same key, other request → conflict. Scoped to the initiator. */
  idempotencyKey?: string | null;
  /**
   * Record and notify without ending identity sessions: the caller ended what it ends itself (one
   * app's grant, in API logout) or the sessions are not ours (external events). Only the targeted
   * clients' participation is forgotten.
   */
  keepSessions?: boolean;
  /**
   * Grants that end with the session although the session record no longer lists them: the
   * provider deletes the session itself in RP-initiated logout, keeping the grants it lets outlive
   * a logout (offline_access), which a logout here revokes like every other grant of the session.
   */
  grantIds?: string[];
  occurredAt?: Date;
  /** Further writes that must commit together with the logout (the caller's own session change). */
  inTransaction?: (tx: EntityManager) => Promise<void>;
}

/** Fingerprint of what a request asks for, compared when an idempotency key is reused. */
export function requestFingerprint(req: LogoutRequest): string {
  const canonical = JSON.stringify([
    req.trigger,
    req.sub ?? null,
    req.sid ?? null,
    [...new Set(req.targetClientIds ?? [])].sort(),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

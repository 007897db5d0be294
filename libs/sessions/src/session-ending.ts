import type { DataSource, EntityManager } from 'typeorm';
import { hashStoredId } from './token-hash';

/** Provider models that belong to a user (ended with "every session of the subject"). */
const USER_TOKEN_MODELS = [
  'AccessToken',
  'RefreshToken',
  'AuthorizationCode',
  'Grant',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
];

interface EndedSessions {
  /** The sessions that ended (the `sid` of ID tokens). */
  sids: string[];
  /** The subject the sessions belonged to, when the request did not name it. */
  sub: string | null;
}

/** The part of a provider session (its record's payload, or the provider's Session object) that names its grants. */
export interface SessionGrants {
  authorizations?: Record<string, { grantId?: string }>;
}

interface SessionPayload extends SessionGrants {
  accountId?: string;
}

/** The grants a session holds, one per client that signed in through it (offline_access grants included). */
export function sessionGrantIds(session: SessionGrants): string[] {
  return Object.values(session.authorizations ?? {})
    .map((a) => a.grantId)
    .filter((g): g is string => typeof g === 'string' && g.length > 0);
}

/**
 * Ends identity sessions inside the logout transaction: deletes the provider's session records
 * and revokes the grants (with their tokens) the session's clients received. Without `sid`,
 * every session of `sub` ends and every token of `sub` is revoked (all devices). `alsoGrantIds`:
 * grants of the session that its record no longer names (the provider deleted the record first).
 */
export async function endSessions(
  tx: EntityManager,
  sub: string | null,
  sid: string | null,
  alsoGrantIds: string[] = [],
): Promise<EndedSessions> {
  // TypeORM answers a DELETE ... RETURNING with [rows, affected].
  const [rows] = (
    sid
      ? await tx.query(`DELETE FROM oidc_payloads WHERE model = 'Session' AND uid = $1 RETURNING uid, payload`, [sid])
      : await tx.query(
          `DELETE FROM oidc_payloads WHERE model = 'Session' AND payload->>'accountId' = $1 RETURNING uid, payload`,
          [sub],
        )
  ) as [{ uid: string; payload: SessionPayload }[], number];
  const grantIds = [...new Set([...alsoGrantIds, ...rows.flatMap((r) => sessionGrantIds(r.payload))])];
  if (grantIds.length) await tx.query('DELETE FROM oidc_payloads WHERE grant_id = ANY($1)', [grantIds]);
  if (!sid && sub) {
    await tx.query(`DELETE FROM oidc_payloads WHERE model = ANY($1) AND payload->>'accountId' = $2`, [USER_TOKEN_MODELS, sub]);
  }
  return { sids: rows.map((r) => r.uid), sub: rows.find((r) => r.payload.accountId)?.payload.accountId ?? null };
}

/**
 * Revokes one grant: every token issued under it (access and refresh tokens, codes) and the grant
 * itself, which is stored under the hash of its id (PgOidcAdapter). The session stays.
 */
export async function revokeGrant(db: DataSource | EntityManager, tokenHashKey: string, grantId: string): Promise<void> {
  await db.query(`DELETE FROM oidc_payloads WHERE grant_id = $1 OR (model = 'Grant' AND id = $2)`, [
    grantId,
    hashStoredId(tokenHashKey, grantId),
  ]);
}

/** Up to `limit` provider sessions past their expiry, oldest first; `sub` is null for a session nobody signed in to. */
export function expiredSessions(db: DataSource | EntityManager, limit: number): Promise<{ uid: string; sub: string | null }[]> {
  return db.query(
    `SELECT uid, payload->>'accountId' AS sub FROM oidc_payloads
      WHERE model = 'Session' AND expires_at <= now() ORDER BY expires_at LIMIT $1`,
    [limit],
  );
}

/** Deletes an expired session record (one nobody signed in to: there is nobody to tell). */
export async function deleteExpiredSession(db: DataSource | EntityManager, uid: string): Promise<void> {
  await db.query(`DELETE FROM oidc_payloads WHERE model = 'Session' AND uid = $1 AND expires_at <= now()`, [uid]);
}

import type { EntityManager } from 'typeorm';

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

interface SessionPayload {
  accountId?: string;
  authorizations?: Record<string, { grantId?: string }>;
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
  const grantIds = [
    ...new Set([
      ...alsoGrantIds,
      ...rows.flatMap((r) =>
        Object.values(r.payload.authorizations ?? {})
          .map((a) => a.grantId)
          .filter((g): g is string => typeof g === 'string'),
      ),
    ]),
  ];
  if (grantIds.length) await tx.query('DELETE FROM oidc_payloads WHERE grant_id = ANY($1)', [grantIds]);
  if (!sid && sub) {
    await tx.query(`DELETE FROM oidc_payloads WHERE model = ANY($1) AND payload->>'accountId' = $2`, [USER_TOKEN_MODELS, sub]);
  }
  return { sids: rows.map((r) => r.uid), sub: rows.find((r) => r.payload.accountId)?.payload.accountId ?? null };
}

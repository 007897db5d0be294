import { DataSource, EntityManager } from 'typeorm';

interface Participation {
  sid: string;
  sub: string;
  clientId: string;
}

/**
 * Records that a client obtained tokens in a session, so the client is told when the session ends.
 * Idempotent; a client that no longer exists is ignored.
 */
export async function recordParticipation(db: DataSource | EntityManager, p: Participation): Promise<void> {
  await db.query(
    `INSERT INTO session_clients (sid, client_id, sub)
     SELECT $1, client_id, $3 FROM clients WHERE client_id = $2
     ON CONFLICT (sid, client_id) DO NOTHING`,
    [p.sid, p.clientId, p.sub],
  );
}

/** An identity session by its sid: alive in the provider's store, or still known from participation. */
export async function findSession(db: DataSource | EntityManager, sid: string): Promise<{ sid: string; sub: string } | null> {
  const rows: { sub: string }[] = await db.query(
    `SELECT payload->>'accountId' AS sub FROM oidc_payloads
      WHERE model = 'Session' AND uid = $1 AND payload->>'accountId' IS NOT NULL AND (expires_at IS NULL OR expires_at > now())
     UNION ALL
     SELECT sub FROM session_clients WHERE sid = $1
     LIMIT 1`,
    [sid],
  );
  return rows[0] ? { sid, sub: rows[0].sub } : null;
}

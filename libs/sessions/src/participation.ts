import { DataSource, EntityManager } from 'typeorm';

export interface Participation {
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

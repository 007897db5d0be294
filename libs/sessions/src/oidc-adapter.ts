import type { Adapter, AdapterPayload } from 'oidc-provider';
import { preparedQuery } from '@slo/database';
import { DataSource } from 'typeorm';
import { hashStoredId } from './token-hash';

/** Stands for the row's own id inside a stored string (an Interaction's `returnTo`); URLs never hold a raw `{`. */
const ID_MARK = '{id}';

/**
 * oidc-provider storage in PostgreSQL (table `oidc_payloads`): sessions, interactions, grants,
 * codes and tokens survive restarts and are shared by every identity instance.
 * Expired rows are invisible at once and deleted by the worker's cleanup job.
 *
 * Tokens hashed at rest: a row's `id` (the opaque access token, refresh token, authorization
 * code, client-credentials token, session cookie value, interaction id, grant id) and `user_code`
 * are stored as HMAC-SHA-256 under TOKEN_HASH_KEY (see token-hash.ts), never as the value, and the
 * payload is stripped of every copy of the value (`jti`, an Interaction's `returnTo` and
 * `session.cookie`), which find() restores from the value it was given. A database dump or backup
 * then holds no token, code or session cookie that could be presented.
 *
 * Kept in clear, as they are no credentials: `uid` (a Session's uid is the `sid` of ID and logout
 * tokens, which every relying party of the session receives; knowing it lets nobody act as the
 * user, and the logout pipeline looks sessions up by it), `grant_id` (appears in every token of
 * the grant and in the session's payload; presenting it gets nothing) and `accountId`.
 */
export class PgOidcAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly db: DataSource,
    private readonly hashKey: string,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const expiresAt = typeof expiresIn === 'number' && expiresIn > 0 ? new Date(Date.now() + expiresIn * 1000) : null;
    await this.db.query(
      `INSERT INTO oidc_payloads (model, id, payload, grant_id, user_code, uid, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
         user_code = EXCLUDED.user_code, uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at`,
      [
        this.model,
        this.hash(id),
        JSON.stringify(this.storable(id, payload)),
        payload.grantId ?? null,
        payload.userCode ? this.hash(payload.userCode) : null,
        payload.uid ?? null,
        expiresAt,
      ],
    );
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const stored = await this.findWhere('id', this.hash(id));
    return stored && this.restored(id, stored);
  }

  /**
   * A Session by its uid (the `sid`). The provider calls this only to read a session it already
   * holds a reference to (an interaction's, a session-bound token's); the session's cookie value
   * is not stored, so the result carries none (the provider then gives it a random `jti`, which
   * nothing saves).
   */
  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.findWhere('uid', uid);
  }

  /**
   * A DeviceCode by its user code (a credential: hashed too). The device flow is disabled
   * (oidc-configuration.ts); the device code itself is not known here, so enabling the flow
   * needs more than this.
   */
  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const stored = await this.findWhere('user_code', this.hash(userCode));
    return stored && { ...stored, userCode };
  }

  async consume(id: string): Promise<void> {
    await this.db.query('UPDATE oidc_payloads SET consumed_at = now() WHERE model = $1 AND id = $2', [this.model, this.hash(id)]);
  }

  async destroy(id: string): Promise<void> {
    await this.db.query('DELETE FROM oidc_payloads WHERE model = $1 AND id = $2', [this.model, this.hash(id)]);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db.query('DELETE FROM oidc_payloads WHERE grant_id = $1', [grantId]);
  }

  private hash(value: string): string {
    return hashStoredId(this.hashKey, value);
  }

  /** The payload without any copy of the row's id or user code. */
  private storable(id: string, payload: AdapterPayload): AdapterPayload {
    // `jti` is the row's id for every model (the token, code, cookie value or interaction id).
    const { jti: _jti, userCode: _userCode, ...rest } = payload;
    if (this.model === 'Interaction') {
      // `returnTo` is the resume URL (…/auth/<interaction id>); `session.cookie` the session's
      // cookie value, which the provider never reads back.
      if (typeof rest.returnTo === 'string') rest.returnTo = rest.returnTo.split(id).join(ID_MARK);
      const session = rest.session as Record<string, unknown> | undefined;
      if (session && 'cookie' in session) {
        const { cookie: _cookie, ...kept } = session;
        rest.session = kept as AdapterPayload['session'];
      }
    }
    return rest;
  }

  /** The stored payload with the values storable() removed, given the id it was found by. */
  private restored(id: string, stored: AdapterPayload): AdapterPayload {
    const payload: AdapterPayload = { ...stored, jti: id };
    if (this.model === 'Interaction' && typeof payload.returnTo === 'string') {
      payload.returnTo = payload.returnTo.split(ID_MARK).join(id);
    }
    return payload;
  }

  private async findWhere(column: 'id' | 'uid' | 'user_code', value: string): Promise<AdapterPayload | undefined> {
    // Prepared: every provider request reads its session (and more) through here.
    const rows = await preparedQuery<{ payload: AdapterPayload; consumed_at: Date | null }>(
      this.db,
      `oidc_find_by_${column}`,
      `SELECT payload, consumed_at FROM oidc_payloads
       WHERE model = $1 AND ${column} = $2 AND (expires_at IS NULL OR expires_at > now()) LIMIT 1`,
      [this.model, value],
    );
    const row = rows[0];
    if (!row) return undefined;
    return row.consumed_at ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : row.payload;
  }
}

/** Deletes expired provider state in batches; returns how many rows went. Sessions are left to the expiry sweep (libs/logout). */
export async function purgeExpiredOidcState(db: DataSource, batchSize = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const result: [unknown[], number] = await db.query(
      `DELETE FROM oidc_payloads WHERE ctid IN (
         SELECT ctid FROM oidc_payloads WHERE expires_at IS NOT NULL AND expires_at <= now() AND model <> 'Session' LIMIT $1)`,
      [batchSize],
    );
    const deleted = result[1];
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

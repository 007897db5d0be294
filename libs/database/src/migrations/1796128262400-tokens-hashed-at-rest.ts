import { createHmac } from 'node:crypto';
import { MigrationInterface, QueryRunner } from 'typeorm';
// Relative, not @slo/config: migrations also run where the path aliases are not mapped (test global setup).
import { loadConfigFromProcess } from '../../../config/src/config';

const BATCH = 1000;

type Payload = Record<string, unknown>;

/**
 * Tokens hashed at rest (issue 11): rewrites the provider rows stored before it in the format of
 * PgOidcAdapter (libs/sessions/src/oidc-adapter.ts), in place, so nobody is signed out and no
 * token stops working:
 * - `id` (access and refresh tokens, authorization codes, client-credentials tokens, session
 *   cookie values, interaction ids, grant ids) becomes HMAC-SHA-256 under TOKEN_HASH_KEY, base64url;
 * - `user_code` likewise;
 * - the payload loses `jti` and `userCode` (copies of those values), an Interaction's `returnTo`
 *   has its id replaced by `{id}` and its `session.cookie` (the session cookie value) dropped.
 * `uid` and `grant_id` stay as they are (no credentials; see the adapter).
 *
 * Every row is hashed, short-lived ones too: deleting codes and interactions would break sign-ins
 * in progress for nothing, and the work is the same. The key comes from the same configuration the
 * apps read (TOKEN_HASH_KEY; the built-in development value outside production), so run this with
 * the environment the identity service runs with: a different key leaves every row unfindable,
 * i.e. signs everybody out. The hashing is written out here rather than imported, so this migration
 * keeps producing the format of its time whatever the adapter later becomes.
 */
export class TokensHashedAtRest1796128262400 implements MigrationInterface {
  name = 'TokensHashedAtRest1796128262400';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // The keys first: rows rewritten below get new ids and must not be visited twice.
    const keys: { model: string; id: string }[] = await queryRunner.query('SELECT model, id FROM oidc_payloads');
    if (!keys.length) return;
    const key = loadConfigFromProcess().identity.tokenHashKey;
    const hash = (value: string) => createHmac('sha256', key).update(value, 'utf8').digest('base64url');
    for (let i = 0; i < keys.length; i += BATCH) {
      const chunk = keys.slice(i, i + BATCH);
      const rows: { model: string; id: string; payload: Payload; user_code: string | null }[] = await queryRunner.query(
        `SELECT model, id, payload, user_code FROM oidc_payloads
          WHERE (model, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
        [chunk.map((k) => k.model), chunk.map((k) => k.id)],
      );
      if (!rows.length) continue;
      await queryRunner.query(
        `UPDATE oidc_payloads o SET id = v.new_id, payload = v.payload::jsonb, user_code = v.user_code
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS v(model, old_id, new_id, payload, user_code)
          WHERE o.model = v.model AND o.id = v.old_id`,
        [
          rows.map((r) => r.model),
          rows.map((r) => r.id),
          rows.map((r) => hash(r.id)),
          rows.map((r) => JSON.stringify(storable(r.model, r.id, r.payload))),
          rows.map((r) => (r.user_code ? hash(r.user_code) : null)),
        ],
      );
    }
  }

  /**
   * Irreversible: a hash cannot be turned back into its token. The code before this migration
   * would find none of the rewritten rows (everybody would sign in again, every token would be
   * refused), so reverting deletes them; sessions that end this way are not notified to clients.
   */
  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DELETE FROM oidc_payloads');
  }
}

function storable(model: string, id: string, payload: Payload): Payload {
  const { jti: _jti, userCode: _userCode, ...rest } = payload;
  if (model === 'Interaction') {
    if (typeof rest.returnTo === 'string') rest.returnTo = rest.returnTo.split(id).join('{id}');
    const session = rest.session as Payload | undefined;
    if (session && typeof session === 'object' && 'cookie' in session) {
      const { cookie: _cookie, ...kept } = session;
      rest.session = kept;
    }
  }
  return rest;
}

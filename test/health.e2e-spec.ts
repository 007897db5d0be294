import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import { hashStoredId, PgOidcAdapter } from '@slo/sessions';
import { startTestStack, TestStack, waitFor, withPg } from '@slo/testing';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';

describe('health and housekeeping', () => {
  let stack: TestStack;
  let workerUrl: string;

  beforeAll(async () => {
    stack = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      env: { PURGE_INTERVAL_SECONDS: '5', SESSION_EXPIRY_SWEEP_SECONDS: '2' },
    });
    workerUrl = (await stack.start(createWorkerApp)).url;
  });
  afterAll(() => stack?.close());

  it('reports live and ready on every app, checking PostgreSQL and Redis', async () => {
    for (const base of [stack.identityUrl, stack.apiUrl, workerUrl]) {
      const live = await fetch(`${base}/health/live`);
      expect(live.status).toBe(200);
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ok', info: { postgres: { status: 'up' }, redis: { status: 'up' } } });
    }
  });

  it('hides expired provider state at once and the worker deletes it', async () => {
    const db = stack.identity.get<DataSource>(getDataSourceToken());
    const sessions = new PgOidcAdapter('Session', db, stack.config.identity.tokenHashKey);
    const [live, expired] = ['live-one', 'expired-one'].map((id) => hashStoredId(stack.config.identity.tokenHashKey, id));
    await sessions.upsert('live-one', { uid: 'u-live', accountId: 'a' }, 3600);
    await sessions.upsert('expired-one', { uid: 'u-old', accountId: 'a' }, 1);
    await db.query("UPDATE oidc_payloads SET expires_at = now() - interval '1 minute' WHERE id = $1", [expired]);
    expect(await sessions.find('expired-one')).toBeUndefined();
    expect(await sessions.findByUid('u-live')).toMatchObject({ accountId: 'a' });

    await waitFor(
      async () => {
        const { rows } = await withPg(stack.dbUrl, (c) =>
          c.query('SELECT id FROM oidc_payloads WHERE id = ANY($1)', [[live, expired]]),
        );
        return rows.length === 1 && rows[0].id === live;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'the worker to purge the expired session' },
    );
  });
});

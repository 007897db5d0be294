import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import { hashStoredId, PgOidcAdapter } from '@slo/sessions';
import { apiClient, sql, startTestStack, TestStack, waitFor } from '@slo/testing';
import { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';

describe('health and housekeeping', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      worker: createWorkerApp,
      env: { PURGE_INTERVAL_SECONDS: '5', SESSION_EXPIRY_SWEEP_SECONDS: '2' },
    });
  });
  afterAll(() => stack?.close());

  it('reports live and ready on every app, checking PostgreSQL and Redis', async () => {
    for (const app of [stack.identityUrl, stack.apiUrl, stack.workerUrl].map((url) => apiClient(url))) {
      await app.get('/health/live', { expect: 200 });
      const ready = await app.get('/health/ready', { expect: 200 });
      expect(ready).toMatchObject({ status: 'ok', info: { postgres: { status: 'up' }, redis: { status: 'up' } } });
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
        const rows = await sql(stack)<{ id: string }>('SELECT id FROM oidc_payloads WHERE id = ANY($1)', [[live, expired]]);
        return rows.length === 1 && rows[0].id === live;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'the worker to purge the expired session' },
    );
  });
});

import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AccountsModule, UsersService } from '@slo/accounts';
import { ClientsModule, ClientsService } from '@slo/clients';
import { AppConfig, AppConfigModule } from '@slo/config';
import { DatabaseModule } from '@slo/database';
import { HttpSession, signIn, type TestClient } from '@slo/testing';
import { cpuBetween, sampleCpu, type CpuSample } from '../cpu';
import { DeadEndpoint } from '../receivers';
import { createDatabase, dropDatabase, freePort, purgeRedis, scenarioEnv, spawnApp, waitReady, Workers } from '../stack';
import {
  CellResult,
  CellSpec,
  clientIds,
  HANGING_CLIENT,
  redirectUriOf,
  runLogouts,
  startReceivers,
  timeLogout,
  type Expected,
} from './cell';
import { Cleanups, stopProcess } from './cleanup';
import type { LogoutOptions } from './options';

const USER = { email: 'bench-logout@example.com', password: 'bench logout password' };

@Module({})
class SeedModule {}

/**
 * One cell of ours: a fresh database and queue prefix, N (+ hanging) clients registered through
 * ClientsService, the real identity app and one real worker, each in its own process from source.
 * Each logout: a fresh browser signs in with client 1 through the login form, then every other
 * client by SSO (authorize + code exchange, so each takes part in the session), then
 * `GET /logout?client_id=<client 1>&redirect_uri=<its redirect URI>` is timed.
 */
export async function runOursCell(
  spec: CellSpec,
  base: AppConfig,
  sdkDir: string,
  opts: LogoutOptions,
  cleanups: Cleanups,
  log: (msg: string) => void,
): Promise<CellResult> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const s = scenarioEnv(base, `logout_n${spec.n}${spec.hanging ? '_hang' : ''}_${spec.wait}`, {
    IDENTITY_ISSUER: issuer,
    IDENTITY_PORT: String(port),
    SDK_ASSETS_DIR: sdkDir,
    ...(spec.wait === 'off' ? { LOGOUT_REDIRECT_WAIT_MS: '0' } : {}),
  });
  // What identity will make of its environment (the same libs/config parses it there).
  const waitNote =
    spec.wait === 'off'
      ? `LOGOUT_REDIRECT_WAIT_MS=0 → ${JSON.stringify(s.config.logout)}`
      : `LOGOUT_REDIRECT_WAIT_MS unset → ${JSON.stringify(s.config.logout)}`;

  cleanups.add('drop database', () => dropDatabase(s));
  cleanups.add('purge redis', () => purgeRedis(s.config.redis.url, s.prefix));
  await createDatabase(s);
  const receivers = await startReceivers(opts.receivers);
  cleanups.add('receivers', () => receivers.close());
  const dead = spec.hanging ? await DeadEndpoint.start() : null;
  if (dead) cleanups.add('hanging endpoint', () => dead.close());

  const ids = clientIds(spec.n);
  const all = [...ids, ...(dead ? [HANGING_CLIENT] : [])];
  const clients: TestClient[] = [];
  const seed = await NestFactory.createApplicationContext(
    {
      module: SeedModule,
      imports: [AppConfigModule.forRoot(s.config), DatabaseModule.forRoot(), ClientsModule, AccountsModule],
    },
    { logger: ['error', 'warn'] },
  );
  try {
    for (const [i, clientId] of all.entries()) {
      const { secret } = await seed.get(ClientsService).create({
        client_id: clientId,
        client_name: clientId,
        grant_types: ['authorization_code'],
        redirect_uris: [redirectUriOf(clientId)],
        backchannel_logout_uri: clientId === HANGING_CLIENT ? dead!.url : receivers.uriFor(i, clientId),
      });
      clients.push({ client_id: clientId, client_secret: secret!, redirect_uri: redirectUriOf(clientId) });
    }
    await seed.get(UsersService).create({ ...USER, name: 'Bench' });
  } finally {
    await seed.close();
  }

  let identityExited = false;
  const identity = spawnApp('identity', s.env, `[identity ${spec.wait}] `);
  identity.on('exit', () => (identityExited = true));
  cleanups.add('identity', () => stopProcess(identity));
  await waitReady(`${issuer}/health/ready`, () => {
    if (identityExited) throw new Error('identity stopped (see its output above)');
  });
  const workers = await Workers.start(s.env, 1);
  cleanups.add('worker', () => workers.stop());

  const returning = clients[0];
  const logoutUrl = `${issuer}/logout?${new URLSearchParams({
    client_id: returning.client_id,
    redirect_uri: returning.redirect_uri,
  })}`;
  let before: CpuSample | null = null;
  const samples = await runLogouts(
    opts.warmup,
    opts.logouts,
    async () => {
      const browser = new HttpSession();
      const expected: Expected[] = [];
      for (const client of clients) {
        // The first sign-in goes through the login form; the others find the session (SSO).
        const signed = await signIn(issuer, browser, client, USER, 'openid');
        if (client.client_id !== HANGING_CLIENT) expected.push({ clientId: client.client_id, sid: signed.sid });
      }
      workers.assertAlive();
      if (identityExited) throw new Error('identity stopped (see its output above)');
      return timeLogout(() => browser.request(logoutUrl), returning.redirect_uri, receivers, expected, opts.deadlineMs);
    },
    log,
    () => (before = sampleCpu({})),
  );
  const cpu = cpuBetween(before, sampleCpu({}));
  return {
    spec,
    samples,
    hangingConnections: dead ? dead.requests : null,
    waitNote,
    duplicates: receivers.duplicates,
    busyShare: cpu?.busyShare ?? NaN,
    stealShare: cpu?.stealShare ?? NaN,
    notes: receivers.unreadable ? [`${receivers.unreadable} back-channel POSTs without a readable sid`] : [],
  };
}

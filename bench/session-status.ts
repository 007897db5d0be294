/**
 * Session-status benchmark (docs/performance.md): `npm run bench:session-status [-- --name=value]`.
 *
 * What the browser SDK costs identity: every open tab of a web app asks `GET /api/2/session`
 * with the session cookie once per poll interval (30 s by default). The bench starts the real
 * identity service in its own process on a fresh database, signs in --sessions identity
 * sessions through the real login form, then keeps --connections requests in flight for
 * --seconds, each from a registered web origin with one of the session cookies (and, as a
 * second phase, without a cookie: visitors). It prints requests per second, latency, identity's
 * CPU, and how many polling tabs that rate serves at the default interval. Every answer must be
 * a 200 with the expected status, or the bench fails.
 */
import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AccountsModule, UsersService } from '@slo/accounts';
import { ClientsModule, ClientsService } from '@slo/clients';
import { AppConfigModule, loadConfigFromProcess } from '@slo/config';
import { DatabaseModule } from '@slo/database';
import { HttpSession, signIn } from '@slo/testing';
import { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSdk } from '../scripts/build-sdk';
import { sampleCpu, type CpuSample } from './cpu';
import { createDatabase, dropDatabase, freePort, scenarioEnv, spawnApp, waitReady } from './stack';
import { fmt, latencySummary, table } from './stats';

const ORIGIN = 'https://app.bench.example';
const CLIENT = 'bench-app';
const USER = { email: 'bench@example.com', password: 'bench user password' };
const DEFAULT_POLL_SECONDS = 30;

interface Options {
  seconds: number;
  connections: number;
  sessions: number;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { seconds: 10, connections: 32, sessions: 100 };
  for (const arg of argv) {
    const m = /^--(seconds|connections|sessions)=(\d+)$/.exec(arg);
    if (!m || Number(m[2]) < 1) {
      throw new Error(`unknown or bad option ${arg}; options: --seconds=10 --connections=32 --sessions=100`);
    }
    opts[m[1] as keyof Options] = Number(m[2]);
  }
  return opts;
}

@Module({})
class SeedModule {}

interface PhaseResult {
  name: string;
  requests: number;
  seconds: number;
  latencies: number[];
  identityCores: number;
}

/** Keeps `connections` requests in flight for `seconds`; every answer is checked. */
async function phase(
  name: string,
  url: string,
  callers: HttpSession[],
  opts: Options,
  expectLoggedIn: boolean,
  identity: ChildProcess,
): Promise<PhaseResult> {
  const latencies: number[] = [];
  const cpuBefore = sampleCpu({ identity: [identity.pid!] });
  const started = performance.now();
  const until = started + opts.seconds * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: opts.connections }, async () => {
      while (performance.now() < until) {
        const caller = callers[next++ % callers.length];
        const t0 = performance.now();
        const res = await caller.request(url, { headers: { origin: ORIGIN } });
        const body = (await res.json()) as { logged_in?: boolean };
        latencies.push(performance.now() - t0);
        if (res.status !== 200 || body.logged_in !== expectLoggedIn) {
          throw new Error(`${name}: unexpected answer ${res.status} ${JSON.stringify(body)}`);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = sampleCpu({ identity: [identity.pid!] });
  return { name, requests: latencies.length, seconds, latencies, identityCores: coresUsed(cpuBefore, cpuAfter, seconds) };
}

function coresUsed(before: CpuSample | null, after: CpuSample | null, seconds: number): number {
  if (!before || !after) return NaN;
  return ((after.groups.identity ?? 0) - (before.groups.identity ?? 0)) / seconds;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const sdkDir = await mkdtemp(join(tmpdir(), 'slo-bench-sdk-'));
  await buildSdk(sdkDir);
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const s = scenarioEnv(loadConfigFromProcess(), 'session_status', {
    IDENTITY_ISSUER: issuer,
    IDENTITY_PORT: String(port),
    SDK_ASSETS_DIR: sdkDir,
  });
  await createDatabase(s);
  let identity: ChildProcess | undefined;
  let seed: INestApplicationContext | undefined;
  try {
    seed = await NestFactory.createApplicationContext(
      {
        module: SeedModule,
        imports: [AppConfigModule.forRoot(s.config), DatabaseModule.forRoot(), ClientsModule, AccountsModule],
      },
      { logger: ['error', 'warn'] },
    );
    const { secret } = await seed.get(ClientsService).create({
      client_id: CLIENT,
      client_name: 'Bench app',
      redirect_uris: [`${ORIGIN}/callback`],
      web_origins: [ORIGIN],
    });
    await seed.get(UsersService).create({ ...USER, name: 'Bench' });

    let exited = false;
    identity = spawnApp('identity', s.env, '[identity] ');
    identity.on('exit', () => (exited = true));
    await waitReady(`${issuer}/health/ready`, () => {
      if (exited) throw new Error('identity stopped (see its output above)');
    });

    process.stderr.write(`signing in ${opts.sessions} sessions…\n`);
    const sessions: HttpSession[] = [];
    for (let i = 0; i < opts.sessions; i++) {
      const browser = new HttpSession();
      await signIn(
        issuer,
        browser,
        { client_id: CLIENT, client_secret: secret!, redirect_uri: `${ORIGIN}/callback` },
        USER,
        'openid',
      );
      sessions.push(browser);
    }
    const url = `${issuer}/api/2/session?client_id=${CLIENT}`;
    await phase('warm-up', url, sessions, { ...opts, seconds: 2 }, true, identity);
    const results = [
      await phase('signed-in tabs', url, sessions, opts, true, identity),
      await phase('visitor tabs', url, [new HttpSession()], opts, false, identity),
    ];

    const cpu = cpus();
    const out = [
      '',
      'Session-status benchmark (GET /api/2/session, what every SDK poll costs)',
      `machine: ${cpu.length} cores (${cpu[0]?.model ?? 'unknown'}), Node ${process.version}; identity in its own process, ` +
        `load generator in this one; ${opts.connections} requests in flight, ${opts.sessions} sessions, ${opts.seconds} s per phase`,
      '',
      table(
        ['phase', 'requests', 'req/s', 'p50', 'p99', 'max', 'identity cores', `tabs at ${DEFAULT_POLL_SECONDS} s poll`],
        results.map((r) => {
          const lat = latencySummary(r.latencies);
          const rate = r.requests / r.seconds;
          return [
            r.name,
            fmt.int(r.requests),
            fmt.int(rate),
            `${lat.p50.toFixed(1)} ms`,
            `${lat.p99.toFixed(1)} ms`,
            `${lat.max.toFixed(1)} ms`,
            r.identityCores.toFixed(2),
            fmt.int(rate * DEFAULT_POLL_SECONDS),
          ];
        }),
      ),
      '',
    ];
    console.log(out.join('\n'));
  } finally {
    if (identity && identity.exitCode === null) {
      const exit = once(identity, 'exit');
      identity.kill('SIGTERM');
      await exit;
    }
    await seed?.close();
    await dropDatabase(s);
    await rm(sdkDir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(`session-status bench failed: ${err.message}`);
  process.exit(1);
});

import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientsModule, ClientsService } from '@slo/clients';
import { AppConfig, AppConfigModule, parseConfig } from '@slo/config';
import { DatabaseModule, dataSourceOptions } from '@slo/database';
import { KeysModule, SigningKeysService } from '@slo/keys';
import { LogoutModule, LogoutService } from '@slo/logout';
import { QueueModule, RedisModule } from '@slo/queue';
import { deleteRedisKeys, withPg } from '@slo/testing';
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { DataSource } from 'typeorm';

export const ROOT = resolve(__dirname, '..');

/** One scenario's own database, queue prefix and worker settings: the environment every process of it gets. */
export interface ScenarioEnv {
  dbName: string;
  adminUrl: string;
  prefix: string;
  env: Record<string, string>;
  config: AppConfig;
}

export function scenarioEnv(base: AppConfig, label: string, settings: Record<string, string>): ScenarioEnv {
  const stamp = `${Date.now()}_${process.pid}`;
  const dbName = `slo_bench_${label.replace(/\W/g, '_')}_${stamp}`;
  const url = new URL(base.database.url);
  url.pathname = `/${dbName}`;
  const admin = new URL(base.database.url);
  admin.pathname = '/postgres';
  const env = {
    NODE_ENV: 'development',
    DATABASE_URL: url.href,
    REDIS_URL: base.redis.url,
    QUEUE_PREFIX: `slo-bench-${label}-${stamp}`,
    BACKCHANNEL_ALLOWED_HOSTS: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...settings,
  };
  return { dbName, adminUrl: admin.href, prefix: env.QUEUE_PREFIX, env, config: parseConfig(env) };
}

export async function createDatabase(s: ScenarioEnv): Promise<void> {
  await withPg(s.adminUrl, (c) => c.query(`CREATE DATABASE "${s.dbName}"`));
  const ds = new DataSource(dataSourceOptions(s.config.database.url));
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}

export async function dropDatabase(s: ScenarioEnv): Promise<void> {
  await withPg(s.adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${s.dbName}" WITH (FORCE)`));
}

/** Removes the scenario's Redis keys. */
export const purgeRedis = deleteRedisKeys;
export { withPg };

@Module({})
class EmitterModule {}

/** The producing side, as the api wires it: LogoutService (outbox + enqueue), clients and keys. */
export interface Emitter {
  logout: LogoutService;
  clients: ClientsService;
  keys: SigningKeysService;
  close(): Promise<void>;
}

export async function startEmitter(config: AppConfig): Promise<Emitter> {
  const ctx: INestApplicationContext = await NestFactory.createApplicationContext(
    {
      module: EmitterModule,
      imports: [
        AppConfigModule.forRoot(config),
        DatabaseModule.forRoot(),
        RedisModule,
        QueueModule.forRoot([]),
        KeysModule,
        ClientsModule,
        LogoutModule,
      ],
    },
    // A failed boot throws (to the caller's cleanup) instead of exiting the process.
    { logger: ['error', 'warn'], abortOnError: false },
  );
  let closing: Promise<void> | undefined;
  return {
    logout: ctx.get(LogoutService),
    clients: ctx.get(ClientsService),
    keys: ctx.get(SigningKeysService),
    close: () => (closing ??= ctx.close()),
  };
}

export function freePort(): Promise<number> {
  return new Promise((done, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => done(port));
    });
  });
}

/** Real worker processes (apps/worker from source, as `npm run cli` runs), ready when /health/ready says so. */
export class Workers {
  private exited = false;
  private constructor(readonly procs: ChildProcess[]) {}

  get pids(): number[] {
    return this.procs.map((p) => p.pid!).filter(Boolean);
  }

  /** Throws once a worker has stopped on its own. */
  assertAlive(): void {
    if (this.exited) throw new Error('a worker process exited during the run (see its output above)');
  }

  static async start(env: Record<string, string>, count: number, cpuProfDir = ''): Promise<Workers> {
    const procs: ChildProcess[] = [];
    const ports: number[] = [];
    const workers = new Workers(procs);
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      ports.push(port);
      const child = spawnApp('worker', { ...env, WORKER_PORT: String(port) }, `[worker ${i + 1}] `, cpuProfDir);
      child.on('exit', () => (workers.exited = true));
      procs.push(child);
    }
    for (const port of ports) await waitReady(`http://127.0.0.1:${port}/health/ready`, () => workers.assertAlive());
    return workers;
  }

  /** SIGTERM (graceful shutdown), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    await Promise.all(
      this.procs.map(async (p) => {
        if (p.exitCode !== null || p.signalCode !== null) return;
        this.exited = true;
        const exit = once(p, 'exit');
        p.kill('SIGTERM');
        const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
        await exit;
        clearTimeout(timer);
      }),
    );
  }
}

/** One app (apps/<app> from source, as `npm run cli` runs) in its own process, its output prefixed on stderr. */
export function spawnApp(app: string, env: Record<string, string>, prefix: string, cpuProfDir = ''): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(cpuProfDir)}`] : []),
      ...['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', `apps/${app}/src/main.ts`],
    ],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const forward = (chunk: Buffer) =>
    process.stderr.write(
      chunk
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => prefix + l + '\n')
        .join(''),
    );
  child.stdout!.on('data', forward);
  child.stderr!.on('data', forward);
  return child;
}

/** Polls a readiness URL for up to 60 s; `assertAlive` throws once the process behind it stopped. */
export async function waitReady(url: string, assertAlive: () => void): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    assertAlive();
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not become ready within 60 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

import { ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../stack';
import { onCleanup } from './cleanup';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const RUNUSER = '/usr/sbin/runuser';
const REDIS_SERVER = '/usr/bin/redis-server';

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((done, reject) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${[file, ...args].join(' ')}: ${err.message.trim()}\n${stderr || stdout}`.trim()));
      else done(stdout);
    });
  });
}

const asPostgres = (args: string[], timeoutMs: number) => run(RUNUSER, ['-u', 'postgres', '--', ...args], timeoutMs);

/**
 * A private PostgreSQL 15 cluster for one drill, so the machine's shared cluster is never
 * restarted: initdb into a temporary directory owned by the postgres OS user (PostgreSQL refuses
 * to run as root), trust authentication, listening on one spare loopback port only, its socket in
 * that directory. `destroy` (also run on error, interrupt and exit) stops it and removes the directory.
 */
export class PrivatePostgres {
  running = false;
  private destroyed = false;
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get adminUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  static async create(log: (m: string) => void): Promise<PrivatePostgres> {
    const dir = await mkdtemp(join(tmpdir(), 'slo-drill-pg-'));
    const pg = new PrivatePostgres(dir, await freePort());
    onCleanup(
      'private PostgreSQL',
      () => pg.destroy(),
      () => pg.destroySync(),
    );
    await run('/bin/chown', ['postgres:postgres', dir], 10_000);
    await asPostgres(
      [`${PG_BIN}/initdb`, '-D', pg.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'],
      120_000,
    );
    await pg.start();
    log(`private PostgreSQL 15 on 127.0.0.1:${pg.port} (${pg.dataDir})`);
    return pg;
  }

  /** Starts the cluster and returns once it accepts connections. */
  async start(): Promise<void> {
    if (this.destroyed) throw new Error('the private PostgreSQL was removed (cleaning up)');
    const opts = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir}`;
    await asPostgres(
      [`${PG_BIN}/pg_ctl`, '-D', this.dataDir, '-l', join(this.dir, 'server.log'), '-o', opts, '-w', '-t', '60', 'start'],
      90_000,
    );
    this.running = true;
  }

  /** `fast`: a clean shutdown (sessions are ended, as by `systemctl restart`); `immediate`: a crash. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await asPostgres([`${PG_BIN}/pg_ctl`, '-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop'], 90_000);
    this.running = false;
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    if (this.running) await this.stop('immediate').catch(() => this.destroySync());
    this.running = false;
    await rm(this.dir, { recursive: true, force: true });
  }

  destroySync(): void {
    this.destroyed = true;
    spawnSync(RUNUSER, ['-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', this.dataDir, '-m', 'immediate', '-w', 'stop'], {
      stdio: 'ignore',
      timeout: 30_000,
    });
    this.running = false;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** True when something on 127.0.0.1:port answers PING with PONG within 500 ms. */
function redisPong(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: Buffer) => finish(d.toString('utf8').startsWith('+PONG')));
  });
}

/**
 * A private redis-server for one drill (its own spare loopback port, no persistence, as the
 * deployment runs Redis), a child process of the bench. `stop` ends it; `start` brings up a new,
 * empty one on the same port.
 */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private destroyed = false;
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async create(log: (m: string) => void): Promise<PrivateRedis> {
    const dir = await mkdtemp(join(tmpdir(), 'slo-drill-redis-'));
    const redis = new PrivateRedis(dir, await freePort());
    onCleanup(
      'private Redis',
      () => redis.destroy(),
      () => redis.destroySync(),
    );
    await redis.start();
    log(`private redis-server on 127.0.0.1:${redis.port} (no persistence)`);
    return redis;
  }

  async start(): Promise<void> {
    if (this.destroyed) throw new Error('the private Redis was removed (cleaning up)');
    if (this.child) throw new Error('the private Redis is already running');
    const out = openSync(join(this.dir, 'redis.log'), 'a');
    const child = spawn(
      REDIS_SERVER,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--dir',
        this.dir,
      ],
      { cwd: this.dir, stdio: ['ignore', out, out] },
    );
    closeSync(out);
    this.child = child;
    child.on('exit', () => {
      if (this.child === child) this.child = null;
    });
    const deadline = Date.now() + 15_000;
    while (!(await redisPong(this.port))) {
      if (!this.child) throw new Error(`redis-server exited at start (see ${join(this.dir, 'redis.log')})`);
      if (Date.now() > deadline) throw new Error('the private redis-server did not answer PING within 15 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM (without persistence nothing is saved), SIGKILL after 5 s; returns once the process is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    this.child = null;
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  destroySync(): void {
    this.destroyed = true;
    this.child?.kill('SIGKILL');
    this.child = null;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

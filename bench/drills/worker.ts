import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, WriteStream } from 'node:fs';
import { freePort, ROOT, waitReady } from '../stack';
import { onCleanup } from './cleanup';

/** Set once the run is being torn down: nothing is restarted any more. */
export const shutdown = { started: false };

/** At most this many restarts after the worker exited on its own, per drill. */
const MAX_SELF_RESTARTS = 20;
const RELAY_MESSAGE = /re-?enqueued/i;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
/** Lines that are not JSON log entries shown on stderr, per drill (the rest are in the log file). */
const ECHO_OTHER_LINES = 20;

/**
 * What the worker wrote, kept in a file (a drill's faults make it log thousands of lines) and
 * summed up: warning and error messages by text, and how many deliveries the outbox relay says it
 * re-enqueued.
 */
export class WorkerLog {
  readonly messages = new Map<string, number>();
  relayRequeued = 0;
  relayPasses = 0;
  /** Output lines that were not JSON log entries. */
  otherLines = 0;
  private readonly out: WriteStream;
  private partial = '';

  constructor(readonly file: string) {
    this.out = createWriteStream(file, { flags: 'a' });
  }

  write(prefix: string, chunk: Buffer): void {
    this.out.write(chunk);
    const lines = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.parse(prefix, line);
  }

  private parse(prefix: string, line: string): void {
    if (!line.trim()) return;
    let entry: { level?: number; msg?: string; requeued?: number; err?: { message?: string } };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      // Not a log line: a start-up failure (shown), or an error BullMQ printed (counted, and the first few shown).
      if (++this.otherLines <= ECHO_OTHER_LINES) process.stderr.write(`${prefix}${line}\n`);
      if (this.otherLines === ECHO_OTHER_LINES) process.stderr.write(`${prefix}(further output only in ${this.file})\n`);
      if (/^\w*Error: /.test(line)) {
        const text = `stderr: ${line.replace(UUID, '<id>').slice(0, 120)}`;
        this.messages.set(text, (this.messages.get(text) ?? 0) + 1);
      }
      return;
    }
    if (typeof entry.requeued === 'number' && RELAY_MESSAGE.test(entry.msg ?? '')) {
      this.relayRequeued += entry.requeued;
      this.relayPasses++;
    }
    if ((entry.level ?? 0) >= 40) {
      const text = `${entry.level! >= 50 ? 'error' : 'warn'}: ${entry.msg ?? '?'}${entry.err?.message ? ` (${entry.err.message.slice(0, 80)})` : ''}`;
      this.messages.set(text, (this.messages.get(text) ?? 0) + 1);
    }
  }

  /** The most frequent warning and error messages. */
  top(n: number): string[] {
    return [...this.messages.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([text, count]) => `${count.toLocaleString('en-US')} × ${text}`);
  }

  close(): Promise<void> {
    return new Promise((done) => this.out.end(done));
  }
}

export interface WorkerEvent {
  what: 'kill9' | 'exited';
  at: number;
  /** When its replacement answered /health/ready (epoch ms). */
  readyAt?: number;
}

/**
 * One real worker process (apps/worker from source), supervised as a deployment would
 * (`restart: unless-stopped`): `kill9` SIGKILLs it and starts a replacement at once; should it
 * exit on its own it is started again too, and counted.
 */
export class WorkerSupervisor {
  readonly events: WorkerEvent[] = [];
  private child: ChildProcess | null = null;
  private stopping = false;
  private spawned = 0;
  private ready: Promise<void> = Promise.resolve();

  private constructor(
    private readonly env: Record<string, string>,
    readonly log: WorkerLog,
    private readonly note: (m: string) => void,
  ) {}

  static async start(env: Record<string, string>, log: WorkerLog, note: (m: string) => void): Promise<WorkerSupervisor> {
    const w = new WorkerSupervisor(env, log, note);
    onCleanup(
      'worker',
      () => w.stop(),
      () => w.killSync(),
    );
    await w.spawn();
    await w.ready;
    return w;
  }

  get selfExits(): number {
    return this.events.filter((e) => e.what === 'exited').length;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves when the current process answers /health/ready. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  private async spawn(): Promise<void> {
    const port = await freePort();
    const n = ++this.spawned;
    const prefix = `[worker ${n}] `;
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/worker/src/main.ts'],
      { cwd: ROOT, env: { ...this.env, WORKER_PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout!.on('data', (c: Buffer) => this.log.write(prefix, c));
    child.stderr!.on('data', (c: Buffer) => this.log.write(prefix, c));
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      if (this.stopping || shutdown.started) return;
      this.note(`worker ${n} exited on its own (${signal ?? `code ${code}`}); starting it again`);
      const event: WorkerEvent = { what: 'exited', at: Date.now() };
      this.events.push(event);
      if (this.selfExits > MAX_SELF_RESTARTS) {
        this.note(`worker exited ${this.selfExits} times; not restarting it any more`);
        return;
      }
      setTimeout(() => {
        if (this.stopping || shutdown.started || this.child) return;
        this.spawn()
          .then(() => this.ready)
          .then(
            () => (event.readyAt = Date.now()),
            (err: unknown) => this.note(`could not restart the worker: ${err instanceof Error ? err.message : String(err)}`),
          );
      }, 1000);
    });
    const alive = () => {
      if (this.child !== child) throw new Error(`worker ${n} stopped before it was ready`);
    };
    this.ready = waitReady(`http://127.0.0.1:${port}/health/ready`, alive);
    // Awaited by whoever needs it; a replacement that never gets ready shows in the drill's deliveries.
    this.ready.catch((err: unknown) => this.note(`worker ${n}: ${err instanceof Error ? err.message : String(err)}`));
  }

  /** SIGKILLs the worker and starts a replacement at once; returns when the replacement was spawned. */
  async kill9(): Promise<WorkerEvent> {
    const child = this.child;
    if (!child) throw new Error('no worker process to kill');
    const exited = once(child, 'exit');
    this.child = null;
    child.kill('SIGKILL');
    await exited;
    const event: WorkerEvent = { what: 'kill9', at: Date.now() };
    this.events.push(event);
    if (this.stopping || shutdown.started) throw new Error('cleaning up: no replacement worker started');
    await this.spawn();
    void this.ready.then(
      () => (event.readyAt = Date.now()),
      () => undefined,
    );
    return event;
  }

  /** SIGTERM (graceful shutdown), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    this.child = null;
    await this.log.close();
  }

  killSync(): void {
    this.stopping = true;
    this.child?.kill('SIGKILL');
  }
}

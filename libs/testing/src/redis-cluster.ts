import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = join(__dirname, '..', '..', '..', 'scripts', 'redis-cluster.sh');

/** A local Redis Cluster started by `scripts/redis-cluster.sh` for one test file. */
export interface RedisCluster {
  /** The value for REDIS_CLUSTER_NODES (`127.0.0.1:<port>,…`). */
  nodes: string;
  /** Every node's port, masters first. */
  ports: number[];
  /** Stops the nodes and removes their directory; a second call does nothing. */
  stop(): Promise<void>;
  /** Stops every node process (SIGSTOP): nothing answers, connections stay open. */
  pause(): Promise<void>;
  /** Lets the paused nodes run again (SIGCONT), and waits for cluster_state:ok. */
  resume(): Promise<void>;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A base port whose node ports and cluster bus ports (+10000) are all free. Drawn at random from
 * 10000–19990, below the ephemeral ports the stacks' apps listen on, so parallel Jest workers
 * (and their apps) do not collide; the script fails on a port taken in between, and is retried.
 */
async function freeBasePort(count: number): Promise<number> {
  for (;;) {
    const base = randomInt(1000, 1999) * 10;
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const free = await Promise.all([...ports, ...ports.map((p) => p + 10000)].map(isFree));
    if (free.every(Boolean)) return base;
  }
}

/** Starts a 3-master cluster (with `replicas: 1`, 3 replicas too) on free loopback ports. */
export async function startRedisCluster(opts: { replicas?: 0 | 1 } = {}): Promise<RedisCluster> {
  const replicas = opts.replicas ?? 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const base = await freeBasePort(3 * (1 + replicas));
    const args = [`--base-port=${base}`, `--replicas=${replicas}`];
    const script = (command: string) => run('bash', [SCRIPT, command, ...args], { timeout: 60_000 });
    const stop = () => script('stop').then(() => undefined);
    try {
      const nodes = (await script('start')).stdout.trim().split('\n').pop() ?? '';
      const ports = nodes.split(',').map((n) => Number(n.split(':')[1]));
      const pause = () => script('pause').then(() => undefined);
      const resume = () => script('resume').then(() => undefined);
      return { nodes, ports, stop, pause, resume };
    } catch (err) {
      lastError = err;
      await stop();
    }
  }
  throw lastError;
}

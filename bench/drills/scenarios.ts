import { fmt } from '../stats';
import type { DrillSpec, Harness } from './harness';
import { waitUntil } from './harness';
import { wipeRedisPrefix } from './probes';
import type { Fault } from './result';
import type { DrillName } from './options';

const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** kill -9: SIGKILL the worker each time another 1/(kills+1) of the burst was received; restart it at once. */
async function kill9(h: Harness): Promise<Fault> {
  const { opts } = h;
  const planned = opts.events * h.clients.length;
  const emission = h.events.burst(opts.events, opts.emitConcurrency);
  const notes: string[] = [];
  const kills: { at: number; received: number; ready: () => number | undefined }[] = [];
  // What each killed worker left behind: its claims in PostgreSQL, its send slots in Redis (read before the replacement is up).
  const leftovers: string[] = [];
  for (let k = 1; k <= opts.kills; k++) {
    const threshold = Math.ceil((planned * k) / (opts.kills + 1));
    if (!(await waitUntil(() => h.received() >= threshold, h.deadline))) {
      notes.push(`stalled before kill ${k}: ${fmt.int(h.received())} of ${fmt.int(threshold)} received by the time limit`);
      break;
    }
    const received = h.received();
    const event = await h.workers.kill9();
    kills.push({ at: event.at, received, ready: () => event.readyAt });
    const [claimed, slots] = await Promise.all([h.claimed(), h.slots()]);
    leftovers.push(`${claimed ?? '?'} claimed` + (slots ? `, ${slots.total} slots (fullest endpoint ${slots.max})` : ''));
    h.log(
      `SIGKILL ${k} at ${h.rel(event.at)} (${fmt.int(received)} received); replacement started; left ${leftovers[leftovers.length - 1]}`,
    );
  }
  await emission;
  // The replacement's start-up is part of the recovery; its time is shown beside it.
  await Promise.race([h.workers.whenReady().catch(() => undefined), sleepUntil(h.deadline)]);
  if (!kills.length) throw new Error('the worker was never killed');
  const ready = kills.map((k) => (k.ready() ?? NaN) - k.at).filter(Number.isFinite);
  notes.unshift(
    `${kills.length} SIGKILLs at ${kills.map((k) => `${fmt.int(k.received)} received (${h.rel(k.at)})`).join(', ')}; ` +
      `each replacement answered /health/ready after ${ready.length ? `${secs(Math.min(...ready))}–${secs(Math.max(...ready))}` : '–'}`,
  );
  notes.push(
    `left behind by each killed worker (deliveries 'delivering' in PostgreSQL; live endpoint send slots in Redis): ${leftovers.join('; ')}`,
  );
  return { start: kills[0].at, end: kills[kills.length - 1].at, notes };
}

/** Redis wiped: once a third of the burst was received, delete every key of the deployment's prefix. */
async function redisWipe(h: Harness): Promise<Fault> {
  const planned = h.opts.events * h.clients.length;
  const emission = h.events.burst(h.opts.events, h.opts.emitConcurrency);
  const threshold = Math.ceil(planned / 3);
  if (!(await waitUntil(() => h.received() >= threshold, h.deadline))) {
    throw new Error(`only ${h.received()} of ${threshold} deliveries arrived before the wipe was due`);
  }
  const received = h.received();
  const start = Date.now();
  const deleted = await wipeRedisPrefix(h.redisUrl, h.prefix);
  const end = Date.now();
  h.log(`deleted ${deleted} keys of ${h.prefix}:* at ${h.rel(start)} (${received} received)`);
  await emission;
  return {
    start,
    end,
    notes: [
      `SCAN + DEL of ${h.prefix}:* at ${h.rel(start)} (${fmt.int(received)} received): ${fmt.int(deleted)} keys in ${secs(end - start)}`,
    ],
  };
}

/** PostgreSQL restart: steady emission; the private cluster stops (fast shutdown), stays down, starts again. */
async function pgRestart(h: Harness): Promise<Fault> {
  const { opts } = h;
  const pg = h.pg!;
  const emission = h.events.paced(opts.rate, opts.pgSeconds, h.deadline);
  await sleepUntil(h.t0 + opts.pgFaultAt * 1000);
  const start = Date.now();
  h.log(`stopping PostgreSQL at ${h.rel(start)}`);
  await pg.stop('fast');
  const down = Date.now();
  await sleepUntil(down + opts.pgDownSeconds * 1000);
  const starting = Date.now();
  await pg.start();
  const end = Date.now();
  h.log(`PostgreSQL accepts connections again at ${h.rel(end)}`);
  await emission;
  return {
    start,
    end,
    notes: [
      `${opts.rate} events/s for ${opts.pgSeconds} s; pg_ctl stop -m fast at ${h.rel(start)} (took ${secs(down - start)}), ` +
        `down ${secs(starting - down)}, pg_ctl start -w took ${secs(end - starting)}: accepting connections at ${h.rel(end)}`,
    ],
  };
}

/** Redis outage: steady emission; the private redis-server stops, stays down, and a new, empty one starts. */
async function redisOutage(h: Harness): Promise<Fault> {
  const { opts } = h;
  const redis = h.redis!;
  const emission = h.events.paced(opts.rate, opts.redisSeconds, h.deadline);
  await sleepUntil(h.t0 + opts.redisFaultAt * 1000);
  const start = Date.now();
  h.log(`stopping Redis at ${h.rel(start)}`);
  await redis.stop();
  await sleepUntil(start + opts.redisDownSeconds * 1000);
  await redis.start();
  const end = Date.now();
  h.log(`Redis (empty) answers again at ${h.rel(end)}`);
  await emission;
  return {
    start,
    end,
    notes: [
      `${opts.rate} events/s for ${opts.redisSeconds} s; redis-server stopped (SIGTERM, no persistence) at ${h.rel(start)}, ` +
        `a new empty one answered PING at ${h.rel(end)} (${secs(end - start)} without Redis)`,
    ],
  };
}

export const SPECS: Record<DrillName, DrillSpec> = {
  kill9: { name: 'kill9', maxDuplicateShare: 0.01, run: kill9 },
  'redis-wipe': { name: 'redis-wipe', run: redisWipe },
  'pg-restart': { name: 'pg-restart', server: 'postgres', run: pgRestart },
  'redis-outage': { name: 'redis-outage', server: 'redis', run: redisOutage },
};

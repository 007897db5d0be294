import { AppConfig } from '@slo/config';
import Redis from 'ioredis';
import { Client } from 'pg';
import { redisOptionsFromUrl } from '@slo/queue';

/** Commands that run before (and without) the Nest context: the database may not exist yet. */
export const INFRA_COMMANDS: Record<
  string,
  { summary: string; run: (config: AppConfig, out: (l: string) => void) => Promise<number> }
> = {
  'check-services': {
    summary: 'check that PostgreSQL and Redis answer; one line per service that does not, with how to start it',
    async run(config, out) {
      const problems = (await Promise.all([checkPostgres(config), checkRedis(config)])).filter((p): p is string => !!p);
      for (const p of problems) out(p);
      return problems.length ? 1 : 0;
    },
  },
  'print-urls': {
    summary: 'print the configured URLs as shell variables (used by npm start)',
    async run(config, out) {
      out(`IDENTITY_URL='${config.identity.issuer}'`);
      out(`API_URL='${config.api.publicUrl}'`);
      out(`WORKER_URL='http://localhost:${config.worker.port}'`);
      out(`ADMIN_CLIENT_ID='${config.bootstrap.clientId}'`);
      out(`ADMIN_CLIENT_SECRET='${config.isLocal ? (config.bootstrap.clientSecret ?? '') : '(not shown)'}'`);
      return 0;
    },
  },
  'create-database': {
    summary: 'create the database named in DATABASE_URL if it does not exist',
    async run(config, out) {
      const url = new URL(config.database.url);
      const name = decodeURIComponent(url.pathname.slice(1));
      if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`database name ${name} must be letters, digits and _`);
      url.pathname = '/postgres';
      const pg = new Client({ connectionString: url.href, connectionTimeoutMillis: 3000 });
      await pg.connect();
      try {
        const { rowCount } = await pg.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (!rowCount) {
          await pg.query(`CREATE DATABASE "${name}"`);
          out(`created database ${name}`);
        }
      } finally {
        await pg.end();
      }
      return 0;
    },
  },
};

async function checkPostgres(config: AppConfig): Promise<string | null> {
  const url = new URL(config.database.url);
  url.pathname = '/postgres';
  const pg = new Client({ connectionString: url.href, connectionTimeoutMillis: 3000 });
  try {
    await pg.connect();
    await pg.query('SELECT 1');
    return null;
  } catch (err) {
    return `PostgreSQL is not reachable at ${url.host} (${(err as Error).message}); start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`;
  } finally {
    await pg.end().catch(() => undefined);
  }
}

async function checkRedis(config: AppConfig): Promise<string | null> {
  const opts = redisOptionsFromUrl(config.redis.url);
  const redis = new Redis({
    ...opts,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 3000,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (err) {
    return `Redis is not reachable at ${opts.host}:${opts.port} (${(err as Error).message}); start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`;
  } finally {
    redis.disconnect();
  }
}

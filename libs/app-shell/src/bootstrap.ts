import { INestApplication } from '@nestjs/common';
import { AppConfig, loadConfigOrExit } from '@slo/config';
import { Logger } from 'nestjs-pino';

/** Turns the usual start-up failures into one readable line. */
export function describeStartupError(err: unknown, config: AppConfig): string {
  const e = err as { code?: string; message?: string; address?: string; port?: number };
  const msg = e?.message ?? String(err);
  const pg = new URL(config.database.url);
  if (e?.code === 'ECONNREFUSED' && String(e.port) === (pg.port || '5432')) {
    return `cannot reach PostgreSQL at ${pg.host}; start it (pg_ctlcluster 15 main start) or set DATABASE_URL`;
  }
  if (e?.code === 'ECONNREFUSED') return `connection refused (${e.address}:${e.port}): ${msg}`;
  if (e?.code === '3D000') return `database ${pg.pathname.slice(1)} does not exist; create it (createdb) or set DATABASE_URL`;
  if (e?.code === '42P01') return `the database is not migrated: run npm run migration:run (${msg})`;
  if (e?.code === 'EADDRINUSE') return `port already in use: ${msg}`;
  return msg;
}

/** Standard entry point: validate config, build the app, listen, log the URL; clear one-line failures. */
export async function runApp(
  name: string,
  create: (config: AppConfig) => Promise<INestApplication>,
  port: (config: AppConfig) => number,
  url: (config: AppConfig) => string,
): Promise<void> {
  const config = loadConfigOrExit(name);
  try {
    const app = await create(config);
    await app.listen(port(config));
    app.get(Logger).log(`${name} listening on ${url(config)}`);
  } catch (err) {
    process.stderr.write(`${name}: cannot start: ${describeStartupError(err, config)}\n`);
    process.exit(1);
  }
}

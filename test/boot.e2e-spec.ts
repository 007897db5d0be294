import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

/** Runs an app's real entry point as a separate process and collects how it ends. */
async function boot(app: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const entry = ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, `apps/${app}/src/main.ts`)];
  const child = spawn(process.execPath, entry, {
    // A directory without a .env file, so only the variables given here count.
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH ?? '',
      NODE_PATH: join(ROOT, 'node_modules'),
      TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      LOG_LEVEL: 'silent',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  if (signal === 'SIGKILL') throw new Error(`${app} did not exit; stderr so far: ${stderr}`);
  return { code, stderr };
}

describe('booting with bad configuration', () => {
  it('stops the api with one line per missing production variable, naming it', async () => {
    const { code, stderr } = await boot('api', { NODE_ENV: 'production', API_PORT: 'eighty' });
    expect(code).toBe(1);
    expect(stderr).toContain('api: cannot start, invalid configuration');
    for (const name of ['IDENTITY_ISSUER', 'COOKIE_KEYS', 'KEY_ENCRYPTION_KEY', 'API_PUBLIC_URL']) {
      expect(stderr).toMatch(new RegExp(`^  ${name}: is required`, 'm'));
    }
    expect(stderr).toMatch(/^ {2}API_PORT: must be an integer/m);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('stops the identity service with one readable line when PostgreSQL cannot be reached', async () => {
    const { code, stderr } = await boot('identity', {
      NODE_ENV: 'development',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/slo',
      IDENTITY_PORT: '0',
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/identity: cannot start: cannot reach PostgreSQL at 127\.0\.0\.1:1/);
  });
});

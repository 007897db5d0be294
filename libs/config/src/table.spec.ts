import { parseConfig } from './config';
import { defaultOf, type Env, type Setting } from './setting';
import { RENAMED, SETTINGS } from './table';

const all: readonly Setting[] = SETTINGS;
const DEV: Env = { NODE_ENV: 'development' };
const PROD: Env = { NODE_ENV: 'production' };

function at(tree: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], tree);
}

describe('the settings table', () => {
  it('names each variable and each AppConfig path once, no path inside another', () => {
    const envs = all.map((s) => s.env);
    const paths = all.map((s) => s.path);
    expect(new Set(envs).size).toBe(envs.length);
    expect(new Set(paths).size).toBe(paths.length);
    for (const p of paths) expect(paths.filter((other) => other.startsWith(`${p}.`))).toEqual([]);
  });

  it('describes every variable', () => {
    for (const s of all) expect(s.description.trim().length).toBeGreaterThan(10);
  });

  it('gives every variable a default that parses, or says why it has none', () => {
    for (const s of all) {
      for (const env of [DEV, PROD]) {
        const raw = defaultOf(s, env, all);
        if (raw !== undefined) expect({ env: s.env, parsed: s.parse(raw).ok }).toEqual({ env: s.env, parsed: true });
      }
      if (defaultOf(s, DEV, all) === undefined)
        expect({ env: s.env, optional: s.optional }).toEqual({ env: s.env, optional: true });
    }
  });

  it('defaults to variables that exist', () => {
    for (const s of all.filter((x) => x.defaultsTo !== undefined)) {
      expect(envNames()).toContain(s.defaultsTo);
    }
  });

  it('round-trips: each default lands at its path, and so does a value that is set', () => {
    const config = parseConfig({});
    for (const s of all) {
      const raw = defaultOf(s, DEV, all);
      const parsed = raw === undefined ? undefined : s.parse(raw);
      expect({ path: s.path, value: at(config, s.path) }).toEqual({
        path: s.path,
        value: parsed?.ok ? parsed.value : undefined,
      });
    }
    expect(parseConfig({ PURGE_INTERVAL_SECONDS: '7' }).worker.purgeIntervalSeconds).toBe(7);
    expect(parseConfig({ DELIVERY_SWEEP_INTERVAL_SECONDS: '3' }).delivery.sweepIntervalSeconds).toBe(3);
    expect(parseConfig({ DELIVERY_RETENTION_DAYS: '2' }).delivery.retentionDays).toBe(2);
  });
});

function envNames(): string[] {
  return all.map((s) => s.env);
}

describe('renamed variables', () => {
  it.each(Object.entries(RENAMED))('refuses %s, naming %s', (old, renamed) => {
    expect(envNames()).not.toContain(old);
    expect(envNames()).toContain(renamed);
    expect(() => parseConfig({ [old]: '30' })).toThrow(`${old} was renamed to ${renamed}`);
  });

  it('lists every old name set, one line each, beside the other problems', () => {
    let problems: string[] = [];
    try {
      parseConfig({ OIDC_CLEANUP_INTERVAL_SECONDS: '300', OUTBOX_RELAY_INTERVAL_SECONDS: '15', API_PORT: 'x' });
    } catch (err) {
      problems = (err as { problems: string[] }).problems;
    }
    expect(problems).toEqual([
      'OIDC_CLEANUP_INTERVAL_SECONDS was renamed to PURGE_INTERVAL_SECONDS',
      'OUTBOX_RELAY_INTERVAL_SECONDS was renamed to DELIVERY_SWEEP_INTERVAL_SECONDS',
      'API_PORT: must be an integer (got "x")',
    ]);
  });

  it('ignores an old name left empty (empty means unset everywhere)', () => {
    expect(() => parseConfig({ OIDC_CLEANUP_INTERVAL_SECONDS: '' })).not.toThrow();
  });
});

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CROSS_CHECKS } from './rules';
import { defaultOf, type Env, type Setting } from './setting';
import { ConfigTree, RENAMED, SETTINGS } from './table';

/** The validated configuration: one field per setting (settings/), at the setting's path. */
export interface AppConfig extends ConfigTree {
  /** true outside production: http allowed for non-loopback URIs, cookies not Secure, built-in dev secrets. */
  isLocal: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** Parses and validates an environment. Throws ConfigError listing one line per problem. */
export function parseConfig(env: Env): AppConfig {
  const problems: string[] = [];
  for (const [old, renamed] of Object.entries(RENAMED)) {
    if (env[old]) problems.push(`${old} was renamed to ${renamed}`);
  }
  const all: readonly Setting[] = SETTINGS;
  const values: Record<string, unknown> = {};
  const tree: Record<string, unknown> = {};
  for (const s of all) {
    const raw = env[s.env] || defaultOf(s, env, all);
    let value: unknown;
    if (raw === undefined) {
      if (!s.optional && s.defaultsTo === undefined) problems.push(`${s.env}: is required (${s.description})`);
    } else {
      const parsed = s.parse(raw);
      if (parsed.ok) value = values[s.env] = parsed.value;
      else problems.push(`${s.env}: ${parsed.error} (got ${JSON.stringify(redact(s.env, raw))})`);
    }
    place(tree, s.path, value);
  }
  for (const check of CROSS_CHECKS) {
    const problem = check(values);
    if (problem) problems.push(problem);
  }
  if (problems.length) throw new ConfigError(problems);
  return { ...(tree as unknown as ConfigTree), isLocal: tree.env !== 'production' };
}

function place(tree: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys[keys.length - 1]] = value;
}

function redact(name: string, value: string): string {
  return /KEY|SECRET|PASSWORD|TOKEN$/.test(name) ? '<redacted>' : value;
}

/**
 * The one place that reads process.env. Loads `.env` from the working directory when present
 * (variables already set win), then validates.
 */
export function loadConfigFromProcess(): AppConfig {
  const file = resolve(process.cwd(), '.env');
  if (existsSync(file) && process.env.NODE_ENV !== 'test') process.loadEnvFile(file);
  return parseConfig(process.env);
}

/** For entry points: validate or print one line per problem and exit(1). */
export function loadConfigOrExit(app: string): AppConfig {
  try {
    return loadConfigFromProcess();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${app}: cannot start, invalid configuration:\n`);
      for (const p of err.problems) process.stderr.write(`  ${p}\n`);
      process.exit(1);
    }
    throw err;
  }
}

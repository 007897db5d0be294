import type { Parsed } from './parsers';

export type Env = Record<string, string | undefined>;

/**
 * One environment variable: its name, where its value lands in AppConfig, how it is parsed and
 * what it defaults to. The tables in settings/ hold one entry per variable; AppConfig, the boot
 * checks and `.env.example` are all derived from them.
 */
export interface Setting {
  /** The environment variable. */
  env: string;
  /** Where the parsed value lands in AppConfig, dot-separated (`delivery.timeoutMs`). */
  path: string;
  /** Human description: the comment above the variable in `.env.example`. */
  description: string;
  parse: (raw: string) => Parsed<unknown>;
  /** Value when the variable is unset or empty, in every environment. */
  default?: string;
  /** Value when unset or empty in development and test only: production must set it. */
  devDefault?: string;
  /**
   * When unset or empty, takes the value (or default) of this other variable. Left without a value
   * only when that one is, which is reported on that one.
   */
  defaultsTo?: string;
  /** May stay without a value: the feature it configures is off (the AppConfig field is optional). */
  optional?: true;
}

const inProduction = (env: Env) => (env.NODE_ENV ?? 'development') === 'production';

/** The raw value a setting takes when its variable is unset or empty (undefined: none). */
export function defaultOf(s: Setting, env: Env, all: readonly Setting[]): string | undefined {
  if (s.defaultsTo !== undefined) {
    const other = all.find((o) => o.env === s.defaultsTo);
    return env[s.defaultsTo] ?? (other ? defaultOf(other, env, all) : undefined);
  }
  if (s.devDefault !== undefined && !inProduction(env)) return s.devDefault;
  return s.default;
}

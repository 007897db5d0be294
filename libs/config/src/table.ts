import type { Parsed } from './parsers';
import { CORE_SETTINGS } from './settings/core';
import { DELIVERY_SETTINGS } from './settings/delivery';
import { HTTP_SETTINGS } from './settings/http';
import { IDENTITY_SETTINGS } from './settings/identity';
import { RATE_LIMIT_SETTINGS } from './settings/rate-limits';
import { WORKER_SETTINGS } from './settings/worker';

/**
 * Every variable the coordinator reads, once: add a setting to the table of its area (settings/)
 * and AppConfig, the boot checks and `.env.example` (npm run env:example) follow.
 */
export const SETTINGS = [
  ...CORE_SETTINGS,
  ...HTTP_SETTINGS,
  ...IDENTITY_SETTINGS,
  ...DELIVERY_SETTINGS,
  ...WORKER_SETTINGS,
  ...RATE_LIMIT_SETTINGS,
] as const;

type Entry = (typeof SETTINGS)[number];
type EnvName = Entry['env'];

/**
 * Variables that were renamed because their names hid what they drive: set, they stop the boot
 * with a line naming the new variable (a value under the old name would otherwise be ignored).
 */
export const RENAMED: Readonly<Record<string, EnvName>> = {
  OIDC_CLEANUP_INTERVAL_SECONDS: 'PURGE_INTERVAL_SECONDS',
  OUTBOX_RELAY_INTERVAL_SECONDS: 'DELIVERY_SWEEP_INTERVAL_SECONDS',
};

type ValueOf<S> = S extends { parse: (raw: string) => Parsed<infer T> } ? T : never;
type Head<P extends string> = P extends `${infer H}.${string}` ? H : P;
/** The entries below `K`, with `K.` taken off their paths. */
type Under<S, K extends string> = S extends { path: `${K}.${infer Rest}` } ? Omit<S, 'path'> & { path: Rest } : never;
type Leaf<S, K extends string> = Extract<S, { path: K }>;
type Node<S extends { path: string }, K extends string> = [Leaf<S, K>] extends [never] ? Tree<Under<S, K>> : ValueOf<Leaf<S, K>>;
type IsOptional<S, K extends string> = [Leaf<S, K>] extends [never]
  ? false
  : Leaf<S, K> extends { optional: true }
    ? true
    : false;
/** The nested object the entries' paths describe; optional entries are optional fields. */
type Tree<S extends { path: string }> = {
  [K in Head<S['path']> as IsOptional<S, K> extends true ? never : K]: Node<S, K>;
} & {
  [K in Head<S['path']> as IsOptional<S, K> extends true ? K : never]?: Node<S, K>;
};
type Flat<T> = { [K in keyof T]: T[K] extends Buffer | readonly unknown[] ? T[K] : T[K] extends object ? Flat<T[K]> : T[K] };

/** AppConfig as the tables describe it (table.ts); config.ts adds what is derived. */
export type ConfigTree = Flat<Tree<Entry>>;

/** Parsed values by variable name, for the checks that span variables. */
export type ParsedValues = { [S in Entry as S['env']]?: ValueOf<S> };

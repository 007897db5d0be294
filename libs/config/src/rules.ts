import type { ParsedValues } from './table';

type Rule = (v: ParsedValues) => string | undefined;

type NumberName = { [K in keyof ParsedValues]-?: ParsedValues[K] extends number | undefined ? K : never }[keyof ParsedValues];

/** `larger` must not be smaller than `smaller` (checked when both parsed). */
const notSmaller =
  (larger: NumberName, smaller: NumberName): Rule =>
  (v) => {
    const big = v[larger];
    const small = v[smaller];
    return big !== undefined && small !== undefined && small > big ? `${larger}: must not be smaller than ${smaller}` : undefined;
  };

/** Checks that span variables, run once each variable parsed on its own: one line per broken rule. */
export const CROSS_CHECKS: readonly Rule[] = [
  notSmaller('DELIVERY_BACKOFF_MAX_MS', 'DELIVERY_BACKOFF_BASE_MS'),
  notSmaller('LOGIN_LOCKOUT_MAX_SECONDS', 'LOGIN_LOCKOUT_SECONDS'),
  (v) =>
    v.TOKEN_HASH_KEY !== undefined && v.COOKIE_KEYS?.includes(v.TOKEN_HASH_KEY)
      ? 'TOKEN_HASH_KEY: must not reuse a key of COOKIE_KEYS'
      : undefined,
  (v) => {
    const shards = v.DELIVERY_SHARDS;
    const beyond = shards === undefined ? undefined : v.DELIVERY_SHARDS_CONSUMED?.find((n) => n >= shards);
    return beyond === undefined
      ? undefined
      : `DELIVERY_SHARDS_CONSUMED: shard ${beyond} does not exist (DELIVERY_SHARDS is ${shards})`;
  },
];

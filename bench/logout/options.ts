import type { Impl } from './cell';

/** Command-line settings of the logout benchmark: `npm run bench:logout -- --logouts=5 --n=1,50`. */
export interface LogoutOptions {
  /** Measured logouts per cell. */
  logouts: number;
  /** Unmeasured logouts first in every cell (JIT, pools, connections). */
  warmup: number;
  /** Healthy participating clients per cell. */
  n: number[];
  impls: Impl[];
  /** Wait modes of ours. */
  modes: ('off' | 'default')[];
  hanging: boolean[];
  /** Longest wait for one logout's notifications, from its request start. */
  deadlineMs: number;
  /** HTTP servers the healthy back-channel endpoints are spread over. */
  receivers: number;
}

const DEFAULTS: LogoutOptions = {
  logouts: 20,
  warmup: 2,
  n: [1, 10, 50],
  impls: ['ours', 'peer'],
  modes: ['off', 'default'],
  hanging: [false, true],
  deadlineMs: 10_000,
  receivers: 4,
};

export const USAGE = `usage: npm run bench:logout -- [--name=value ...]
  --logouts=${DEFAULTS.logouts}           measured logouts per cell
  --warmup=${DEFAULTS.warmup}             unmeasured logouts first in every cell
  --n=${DEFAULTS.n.join(',')}            healthy participating clients (one cell per value)
  --impls=${DEFAULTS.impls.join(',')}      ours (GET /logout, identity + worker) and/or peer (plain oidc-provider)
  --modes=${DEFAULTS.modes.join(',')}    wait modes of ours: off (LOGOUT_REDIRECT_WAIT_MS=0), default (unset)
  --hanging=no,yes        cells without and/or with one more client whose endpoint never answers
  --deadline-ms=${DEFAULTS.deadlineMs}    longest wait for a logout's notifications (a missing one is a failure)
  --receivers=${DEFAULTS.receivers}           loopback HTTP servers the healthy endpoints are spread over
  --help                  this text
The checks need the cells they compare; a check whose cells were filtered out is skipped.`;

/** A bad command line: printed without a stack. */
export class UsageError extends Error {}

const list = (name: string, value: string, allowed: readonly string[]): string[] => {
  const items = value.split(',').filter(Boolean);
  const bad = items.filter((v) => !allowed.includes(v));
  if (!items.length || bad.length) throw new UsageError(`--${name}: choose from ${allowed.join(', ')}`);
  return [...new Set(items)];
};

export function parseOptions(argv: string[]): LogoutOptions | 'help' {
  const opts: LogoutOptions = { ...DEFAULTS };
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') return 'help';
    const m = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (!m) throw new UsageError(`unrecognised argument ${arg}\n${USAGE}`);
    const [, name, value] = m;
    const int = (min: number) => {
      const v = Number(value);
      if (!Number.isInteger(v) || v < min) throw new UsageError(`--${name} must be an integer ≥ ${min}`);
      return v;
    };
    switch (name) {
      case 'logouts':
        opts.logouts = int(1);
        break;
      case 'warmup':
        opts.warmup = int(0);
        break;
      case 'deadline-ms':
        opts.deadlineMs = int(100);
        break;
      case 'receivers':
        opts.receivers = int(1);
        break;
      case 'n': {
        const ns = value.split(',').map(Number);
        if (!ns.length || ns.some((v) => !Number.isInteger(v) || v < 1 || v > 500)) {
          throw new UsageError('--n takes a comma-separated list of integers 1..500');
        }
        opts.n = [...new Set(ns)];
        break;
      }
      case 'impls':
        opts.impls = list(name, value, ['ours', 'peer']) as Impl[];
        break;
      case 'modes':
        opts.modes = list(name, value, ['off', 'default']) as LogoutOptions['modes'];
        break;
      case 'hanging':
        opts.hanging = list(name, value, ['no', 'yes']).map((v) => v === 'yes');
        break;
      default:
        throw new UsageError(`unknown option --${name}\n${USAGE}`);
    }
  }
  return opts;
}

import { cpus } from 'node:os';
import { latencySummary, table } from '../stats';
import { CellResult, cellName, type Impl, type WaitMode } from './cell';
import type { LogoutOptions } from './options';

/** The logout benchmark's report (bench/logout.ts): one table, the checks and the RESULT line. */

/** With wait off: our answer p99 at the largest N may be at most this multiple of the one at N=1. */
const ANSWER_RATIO_LIMIT = 1.5;
/** With the default wait: our answer p99 at N=50 may be at most this. */
const DEFAULT_ANSWER_P99_LIMIT_MS = 100;
const N_SMALL = 1;
const N_LARGE = 50;

const ms = (n: number) => (Number.isNaN(n) ? '–' : n === Infinity ? 'timeout' : `${n.toFixed(1)} ms`);
const num = (n: number, digits = 1) => (Number.isNaN(n) ? 'NA' : n === Infinity ? 'inf' : n.toFixed(digits));

interface Figures {
  answer: { p50: number; p99: number };
  notify: { p50: number; p99: number };
  returningNotifyP50: number;
  told: number;
  count: number;
  failures: number;
}

function figures(r: CellResult): Figures {
  const a = latencySummary(r.samples.map((s) => s.answerMs));
  const n = latencySummary(r.samples.map((s) => s.lastNotifyMs));
  return {
    answer: { p50: a.p50, p99: a.p99 },
    notify: { p50: n.p50, p99: n.p99 },
    returningNotifyP50: latencySummary(r.samples.map((s) => s.returningNotifyMs)).p50,
    told: r.samples.filter((s) => s.returningToldBeforeAnswer).length,
    count: r.samples.length,
    failures: r.samples.filter((s) => !s.answerOk || s.missing.length).length,
  };
}

interface Check {
  name: string;
  /** null: skipped (its cells were not run). */
  pass: boolean | null;
  detail: string;
}

export function report(opts: LogoutOptions, results: CellResult[]): { text: string; failed: boolean } {
  const find = (impl: Impl, n: number, hanging: boolean, wait: WaitMode) =>
    results.find((r) => r.spec.impl === impl && r.spec.n === n && r.spec.hanging === hanging && r.spec.wait === wait);
  const fig = new Map(results.map((r) => [r, figures(r)]));
  const cpu = cpus();
  const out: string[] = [
    '',
    'Logout benchmark: our GET /logout against a plain oidc-provider (RP-initiated logout, inline back-channel logout)',
    `machine: ${cpu.length} cores (${cpu[0]?.model ?? 'unknown'}), Node ${process.version}; bench (browser + receivers), ` +
      'identity, worker, peer, PostgreSQL and Redis share them',
    `per cell: ${opts.warmup} unmeasured + ${opts.logouts} measured logouts, each from a fresh browser signed in to all ` +
      `N (+ hanging) clients; ${opts.receivers} loopback receiver servers answer 204 at once; notify deadline ${opts.deadlineMs} ms`,
    '',
    table(
      [
        'impl',
        'N',
        'hanging',
        'wait',
        'logouts',
        'answer p50',
        'answer p99',
        'last-notify p50',
        'last-notify p99',
        'client-1 notify p50',
        'told before answer',
        'failures',
        'hanging conns',
        'busy',
        'steal',
      ],
      results.map((r) => {
        const f = fig.get(r)!;
        return [
          r.spec.impl,
          String(r.spec.n),
          r.spec.hanging ? 'yes' : 'no',
          r.spec.wait,
          String(f.count),
          ms(f.answer.p50),
          ms(f.answer.p99),
          ms(f.notify.p50),
          ms(f.notify.p99),
          ms(f.returningNotifyP50),
          `${f.told}/${f.count}`,
          String(f.failures),
          r.hangingConnections === null ? '–' : String(r.hangingConnections),
          Number.isFinite(r.busyShare) ? `${Math.round(r.busyShare * 100)} %` : '–',
          Number.isFinite(r.stealShare) ? `${Math.round(r.stealShare * 100)} %` : '–',
        ];
      }),
    ),
    '',
    'answer: request start → response headers (the redirect is not followed). last-notify: request start → the last',
    'healthy receiver got its POST for the session (the hanging client excluded). client-1 notify: request start → client 1,',
    'the app the user returns to, got its POST; told before answer: it had it before the answer arrived.',
    'failures: wrong answer or a healthy client not told in time.',
    'hanging conns: connections the never-answering endpoint accepted in the cell (warm-up included).',
    '',
  ];
  const waitNotes = new Map<string, string>();
  for (const r of results) waitNotes.set(`${r.spec.impl} ${r.spec.wait}`, r.waitNote);
  for (const [k, v] of waitNotes) out.push(`wait ${k}: ${v}`);
  for (const r of results) {
    const extra = [...r.notes, ...(r.duplicates ? [`${r.duplicates} duplicate POSTs`] : [])];
    if (extra.length) out.push(`${cellName(r.spec)}: ${extra.join('; ')}`);
  }
  if (opts.impls.includes('peer')) {
    out.push(
      'peer: oidc-provider defaults except its outgoing-request dispatcher (SSRF guard refusing loopback) is dropped so it',
      'can reach the loopback receivers; its own 2.5 s timeout per back-channel request stays.',
    );
  }
  out.push('');

  const checks: Check[] = [];
  const variants = opts.hanging;
  const suffix = (hanging: boolean) => (hanging ? ' (with hanging endpoint)' : '');
  for (const hanging of variants) {
    const small = find('ours', N_SMALL, hanging, 'off');
    const large = find('ours', N_LARGE, hanging, 'off');
    if (small && large) {
      const a = fig.get(small)!.answer.p99;
      const b = fig.get(large)!.answer.p99;
      checks.push({
        name: `wait off: our answer p99 at N=${N_LARGE} ≤ ${ANSWER_RATIO_LIMIT} × at N=${N_SMALL}${suffix(hanging)}`,
        pass: b <= ANSWER_RATIO_LIMIT * a,
        detail: `${ms(b)} vs ${ms(a)} (${num(b / a, 2)}×)`,
      });
    } else {
      checks.push({ name: `wait off: answer p99 ratio${suffix(hanging)}`, pass: null, detail: 'cells not run' });
    }
  }
  for (const hanging of variants) {
    const ours = find('ours', N_LARGE, hanging, 'off');
    const peer = find('peer', N_LARGE, hanging, 'inline');
    if (ours && peer) {
      const a = fig.get(ours)!.notify.p50;
      const b = fig.get(peer)!.notify.p50;
      checks.push({
        name: `wait off: our last-notify p50 at N=${N_LARGE} ≤ the peer's${suffix(hanging)}`,
        pass: a <= b,
        detail: `${ms(a)} vs peer ${ms(b)}`,
      });
    } else {
      checks.push({ name: `last-notify p50 against the peer${suffix(hanging)}`, pass: null, detail: 'cells not run' });
    }
  }
  for (const hanging of variants) {
    const def = find('ours', N_LARGE, hanging, 'default');
    checks.push(
      def
        ? {
            name: `default wait: our answer p99 at N=${N_LARGE} ≤ ${DEFAULT_ANSWER_P99_LIMIT_MS} ms${suffix(hanging)}`,
            pass: fig.get(def)!.answer.p99 <= DEFAULT_ANSWER_P99_LIMIT_MS,
            detail: ms(fig.get(def)!.answer.p99),
          }
        : { name: `default wait: answer p99 at N=${N_LARGE}${suffix(hanging)}`, pass: null, detail: 'cell not run' },
    );
  }
  const defaults = results.filter((r) => r.spec.impl === 'ours' && r.spec.wait === 'default');
  const told = defaults.reduce((k, r) => k + fig.get(r)!.told, 0);
  const total = defaults.reduce((k, r) => k + fig.get(r)!.count, 0);
  checks.push(
    defaults.length
      ? {
          name: 'default wait: the returning app told before the answer, every logout',
          pass: told === total,
          detail: `${told} of ${total} (all default-wait cells)`,
        }
      : { name: 'default wait: returning app told before the answer', pass: null, detail: 'cells not run' },
  );
  const failures = results.reduce((k, r) => k + fig.get(r)!.failures, 0);
  checks.push({
    name: 'every answer as expected and every healthy client told within the deadline',
    pass: failures === 0,
    detail: `${failures} failed logouts`,
  });

  out.push('checks:');
  for (const c of checks) out.push(`  ${c.pass === null ? 'SKIP' : c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);

  const at = (impl: Impl, n: number, wait: WaitMode) => {
    const r = find(impl, n, false, wait);
    return r ? fig.get(r)! : null;
  };
  const n1 = at('ours', N_SMALL, 'off')?.answer.p99 ?? NaN;
  const n50 = at('ours', N_LARGE, 'off')?.answer.p99 ?? NaN;
  out.push(
    '',
    'RESULT logout' +
      ` answer_p99_n1_ms=${num(n1)}` +
      ` answer_p99_n50_ms=${num(n50)}` +
      ` answer_p99_ratio=${num(n50 / n1, 2)}` +
      ` notify_p50_n50_ms=${num(at('ours', N_LARGE, 'off')?.notify.p50 ?? NaN)}` +
      ` peer_notify_p50_n50_ms=${num(at('peer', N_LARGE, 'inline')?.notify.p50 ?? NaN)}` +
      ` default_answer_p99_n50_ms=${num(at('ours', N_LARGE, 'default')?.answer.p99 ?? NaN)}` +
      ` returning_told_before_answer=${told}/${total}`,
  );
  return { text: out.join('\n'), failed: checks.some((c) => c.pass === false) };
}

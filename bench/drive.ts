import type { LogoutService } from '@slo/logout';
import { withPg, type Workers } from './stack';

export const pad = (n: number, w: number) => String(n).padStart(w, '0');
const subOf = (event: number) => `bench-sub-${pad(event, 6)}`;

export interface EmitPlan {
  /** Event numbers first..first+count-1 (each has its own sub and sid). */
  first: number;
  count: number;
  targets: string[];
  /** Events per second; 0 = as fast as `concurrency` record() calls in flight allow. */
  rate: number;
  concurrency: number;
}

/**
 * Emits logout events through LogoutService.record, as the api and identity do; an event is
 * accepted when record() resolves (committed and enqueued). Returns each event's sub → accepted time.
 */
export async function emitEvents(logout: LogoutService, plan: EmitPlan): Promise<Map<string, number>> {
  const accepted = new Map<string, number>();
  const started = Date.now();
  let next = 0;
  const lane = async () => {
    while (next < plan.count) {
      const i = next++;
      if (plan.rate) {
        const due = started + (i * 1000) / plan.rate;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
      const n = plan.first + i;
      await logout.record({ trigger: 'external', sub: subOf(n), sid: `bench-sid-${pad(n, 6)}`, targetClientIds: plan.targets });
      accepted.set(subOf(n), Date.now());
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, lane));
  return accepted;
}

export interface WaitResult {
  /** delivered_at of the last delivery (epoch ms, PostgreSQL's clock: the same machine). */
  lastDeliveredMs: number;
  /** When the poll saw them all (epoch ms). */
  seenAt: number;
  /** Statements the poll ran (not the pipeline's). */
  polls: number;
}

/** Polls PostgreSQL until `expected` deliveries (not counting `excludeClient`'s) are `delivered`. */
export async function waitDelivered(
  dbUrl: string,
  o: { expected: number; excludeClient: string; deadline: number; workers: Workers; log: (m: string) => void },
): Promise<WaitResult> {
  return withPg(dbUrl, async (c) => {
    let polls = 0;
    let lastReport = Date.now();
    for (;;) {
      o.workers.assertAlive();
      polls++;
      const { rows } = await c.query<{ n: string; last: string | null }>(
        `SELECT count(*) AS n, extract(epoch FROM max(delivered_at)) * 1000 AS last FROM deliveries
          WHERE status = 'delivered' AND client_id <> $1`,
        [o.excludeClient],
      );
      const done = Number(rows[0].n);
      if (done >= o.expected) return { lastDeliveredMs: Number(rows[0].last), seenAt: Date.now(), polls };
      if (Date.now() > o.deadline) throw new Error(`only ${done} of ${o.expected} deliveries were delivered in time`);
      if (Date.now() - lastReport > 5000) {
        lastReport = Date.now();
        o.log(`${done} / ${o.expected} delivered`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  });
}

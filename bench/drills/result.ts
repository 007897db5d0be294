import { ReceiverPool } from '../receivers';
import type { EventLog, EventRecord } from './emit';
import type { DrillName } from './options';

/** What a drill's fault did: when it began and ended (epoch ms), and what happened, for the report. */
export interface Fault {
  start: number;
  end: number;
  notes: string[];
}

export interface DrillResult {
  name: DrillName;
  accepted: number;
  refused: number;
  /** record() calls that had not returned when the drill ended. */
  unresolved: number;
  expected: number;
  received: number;
  lost: number;
  duplicates: number;
  /** End of the fault → last first receipt of an event submitted before the fault ended (s); null if not all arrived. */
  recoverSeconds: number | null;
  /** End of the fault → the last first receipt of any event (s). */
  lastReceiptSeconds: number | null;
  /** End of the fault → the first receipt after it, of any event (s): when deliveries flowed again. */
  firstAfterSeconds: number | null;
  /** Receipts for events whose record() threw (committed after all). */
  refusedDelivered: number;
  /** record() duration, longest (ms). */
  recordMaxMs: number;
  /** Events submitted after the fault ended: accepted → receipt, p99 and max (ms). */
  afterFault: { events: number; p99: number; max: number };
  /** Every delivery of the drill's database by status at the end (null if it could not be read). */
  statuses: Record<string, number> | null;
  /** All expected deliveries arrived and PostgreSQL had nothing open any more. */
  settled: boolean;
  /** End of the fault → the poll that saw it settled (s). */
  settledSeconds: number | null;
  fault: Fault | null;
  notes: string[];
  workerLog: string[];
  relayRequeued: number;
  workerSelfExits: number;
  /** Why the drill could not run or finish, if it could not. */
  error?: string;
  pass: boolean;
}

/** A drill's result before it ran: nothing counted, not passed. */
export function emptyResult(name: DrillName): DrillResult {
  return {
    name,
    accepted: 0,
    refused: 0,
    unresolved: 0,
    expected: 0,
    received: 0,
    lost: 0,
    duplicates: 0,
    recoverSeconds: null,
    lastReceiptSeconds: null,
    firstAfterSeconds: null,
    refusedDelivered: 0,
    recordMaxMs: NaN,
    afterFault: { events: 0, p99: NaN, max: NaN },
    statuses: null,
    settled: false,
    settledSeconds: null,
    fault: null,
    notes: [],
    workerLog: [],
    relayRequeued: 0,
    workerSelfExits: 0,
    pass: false,
  };
}

function quantile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Fills in the counts of `result` from what the events and the receivers saw. */
export function summarise(result: DrillResult, events: EventLog, receivers: ReceiverPool): void {
  const clients = events.targets;
  const accepted = events.accepted;
  const faultEnd = result.fault?.end ?? NaN;
  result.accepted = accepted.length;
  result.refused = events.refused.length;
  result.unresolved = events.unresolved;
  result.expected = accepted.length * clients.length;
  let lastExposed = -Infinity;
  let last = -Infinity;
  let firstAfter = Infinity;
  const after: number[] = [];
  for (const e of accepted) {
    for (const c of clients) {
      const got = receivers.receipts.get(ReceiverPool.key(c, e.sub));
      if (!got) continue;
      result.received++;
      last = Math.max(last, got.first);
      if (got.first > faultEnd) firstAfter = Math.min(firstAfter, got.first);
      if (e.submittedAt <= faultEnd) lastExposed = Math.max(lastExposed, got.first);
      else after.push(got.first - e.acceptedAt!);
    }
  }
  result.lost = result.expected - result.received;
  for (const e of events.events) {
    for (const c of clients) {
      const got = receivers.receipts.get(ReceiverPool.key(c, e.sub));
      if (!got) continue;
      result.duplicates += got.count - 1;
      if (e.refusedAt !== undefined) result.refusedDelivered++;
    }
  }
  if (result.lost === 0 && Number.isFinite(faultEnd)) {
    result.recoverSeconds = Number.isFinite(lastExposed) ? Math.max(0, lastExposed - faultEnd) / 1000 : 0;
    result.lastReceiptSeconds = Number.isFinite(last) ? Math.max(0, last - faultEnd) / 1000 : 0;
  }
  if (Number.isFinite(firstAfter)) result.firstAfterSeconds = (firstAfter - faultEnd) / 1000;
  const durations = events.events
    .map((e: EventRecord) => (e.acceptedAt ?? e.refusedAt ?? NaN) - e.submittedAt)
    .filter(Number.isFinite);
  result.recordMaxMs = durations.length ? Math.max(...durations) : NaN;
  result.afterFault = {
    events: accepted.filter((e) => e.submittedAt > faultEnd).length,
    p99: quantile(after, 99),
    max: after.length ? Math.max(...after) : NaN,
  };
  const errors = new Map<string, number>();
  for (const e of events.refused) errors.set(e.error!, (errors.get(e.error!) ?? 0) + 1);
  for (const [msg, n] of [...errors].sort((a, b) => b[1] - a[1]).slice(0, 3)) {
    result.notes.push(`refused ${n} × ${msg.slice(0, 120)}`);
  }
  if (receivers.unreadable) result.notes.push(`${receivers.unreadable} requests without a readable logout token`);
}

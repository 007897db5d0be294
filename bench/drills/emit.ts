import type { LogoutService } from '@slo/logout';
import { pad } from '../drive';

/** One logout event of a drill: when record() was called, and when it resolved or threw. */
export interface EventRecord {
  sub: string;
  submittedAt: number;
  acceptedAt?: number;
  refusedAt?: number;
  error?: string;
}

/**
 * The events of one drill, emitted through LogoutService.record as the api does (trigger
 * `external`, its own sub and sid per event, every client as a target). An event is accepted when
 * record() resolved, refused when it threw.
 */
export class EventLog {
  readonly events: EventRecord[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private next = 0;

  constructor(
    private readonly logout: LogoutService,
    private readonly label: string,
    readonly targets: string[],
  ) {}

  get accepted(): EventRecord[] {
    return this.events.filter((e) => e.acceptedAt !== undefined);
  }

  get refused(): EventRecord[] {
    return this.events.filter((e) => e.refusedAt !== undefined);
  }

  /** record() calls that have neither resolved nor thrown. */
  get unresolved(): number {
    return this.inFlight.size;
  }

  /** Starts one record() call; the promise settles when it resolved or threw (never rejects). */
  emitOne(): Promise<void> {
    const n = this.next++;
    const sub = `drill-${this.label}-sub-${pad(n, 6)}`;
    const e: EventRecord = { sub, submittedAt: Date.now() };
    this.events.push(e);
    const p = this.logout
      .record({ trigger: 'external', sub, sid: `drill-${this.label}-sid-${pad(n, 6)}`, targetClientIds: this.targets })
      .then(
        () => void (e.acceptedAt = Date.now()),
        (err: unknown) => {
          e.refusedAt = Date.now();
          e.error = err instanceof Error ? err.message : String(err);
        },
      )
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return p;
  }

  /** `count` events as fast as `concurrency` record() calls in flight allow. */
  async burst(count: number, concurrency: number): Promise<void> {
    let left = count;
    const lane = async () => {
      while (left > 0) {
        left--;
        await this.emitOne();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  }

  /**
   * `rate` events per second for `seconds`, each call started on schedule whether or not the
   * earlier ones have returned (a stalled record() does not slow the arrivals, as with real users).
   * Resolves when the last one was started.
   */
  async paced(rate: number, seconds: number, until: number): Promise<void> {
    const started = Date.now();
    const total = Math.round(rate * seconds);
    for (let i = 0; i < total && Date.now() < until; i++) {
      const due = started + (i * 1000) / rate;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      void this.emitOne();
    }
  }

  /** Waits until every record() call returned, or `until` (epoch ms). */
  async settled(until: number): Promise<void> {
    while (this.inFlight.size && Date.now() < until) {
      await Promise.race([...this.inFlight, new Promise((r) => setTimeout(r, Math.max(0, Math.min(1000, until - Date.now()))))]);
    }
  }
}

import { Logger } from '@nestjs/common';
import { unlessOutage } from '@slo/errors';
import type { EndpointGuard } from './endpoint-guard';

export type Admission =
  { admitted: true; release: () => void } | { admitted: false; reason: 'breaker_open' | 'endpoint_busy'; retryAt: number };

export interface EndpointGateSettings {
  /** This worker's id in Redis (slot owner). */
  owner: string;
  /** Slot lease: a worker that died gives its slots back after this. */
  slotLeaseMs: number;
  /** A send waiting longer than this for its endpoint is handed back (a delayed job) instead. */
  holdMaxMs: number;
  /** Longest a probe through a half-open breaker holds it. */
  probeLeaseMs: number;
}

/** How often the shared list of failing endpoints is read (the breaker view is at most this old). */
const FAILING_REFRESH_MS = 100;
const HEARTBEAT_MS = 2_000;
/**
 * An endpoint unused this long gives its slots back. Held slots are only this worker's share (the
 * shares of all workers never exceed the limit), so keeping them costs no other worker anything
 * and spares the next logout a Redis round trip per endpoint.
 */
const IDLE_RELEASE_MS = 120_000;
/** Backoff of a worker that could not get slots (others hold them): doubles up to the maximum. */
const SLOT_RETRY_MIN_MS = 100;
const SLOT_RETRY_MAX_MS = 2_000;
const PROBE_RECHECK_MS = 1_000;

interface Waiter {
  since: number;
  resolve: (a: Admission) => void;
}

interface Endpoint {
  clientId: string;
  /** Slots this worker holds in Redis for the endpoint. */
  held: number;
  inUse: number;
  waiters: Waiter[];
  lastUsed: number;
  /** A slot request in flight. */
  asking: boolean;
  retryAt: number;
  retryMs: number;
  renewedAt: number;
}

/**
 * The worker's side of endpoint isolation, in process. Each worker holds a share of every busy
 * endpoint's concurrency limit (limit ÷ live workers) as leased slots in Redis and hands them to
 * its sends itself: while an endpoint is healthy a send costs no Redis round trip. Sends beyond
 * the share wait in a FIFO queue (no polling); one that waited longer than `holdMaxMs` is handed
 * back to be retried later. The breaker view comes from the shared hash of failing endpoints, read
 * every 100 ms; results are reported to Redis only for endpoints on that list (or that just failed).
 */
export class EndpointGate {
  private readonly logger = new Logger(EndpointGate.name);
  private readonly endpoints = new Map<string, Endpoint>();
  private failing = new Map<string, number>();
  private workers = 1;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(
    private readonly guard: EndpointGuard,
    private readonly s: EndpointGateSettings,
  ) {}

  async start(): Promise<void> {
    // Until Redis answers, this worker counts itself alone; the next heartbeat corrects it.
    await this.tick(true).catch((err: unknown) =>
      unlessOutage(err, () => this.logger.warn({ err }, 'first endpoint gate heartbeat failed')),
    );
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const t = setInterval(
        // While Redis is down every tick fails: the outage tracker logs that once.
        () =>
          void fn().catch((err: unknown) => unlessOutage(err, () => this.logger.warn({ err }, 'endpoint gate upkeep failed'))),
        ms,
      );
      t.unref();
      this.timers.push(t);
    };
    every(FAILING_REFRESH_MS, async () => void (this.failing = await this.guard.failing()));
    every(HEARTBEAT_MS, () => this.tick(false));
    every(250, async () => this.handBackLongWaits());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const e of this.endpoints.values()) {
      for (const w of e.waiters.splice(0)) w.resolve({ admitted: false, reason: 'endpoint_busy', retryAt: Date.now() + 1000 });
    }
    await Promise.all(
      [...this.endpoints.values()].filter((e) => e.held > 0).map((e) => this.guard.holdSlots(e.clientId, this.s.owner, 0, 1)),
    ).catch(() => undefined);
    await this.guard.leave(this.s.owner).catch(() => undefined);
  }

  /** This worker's share of one endpoint's limit. */
  get share(): number {
    return Math.max(1, Math.floor(this.guard.settings.concurrency / this.workers));
  }

  /**
   * A send slot for `clientId`, now or when one frees up; or not now (breaker open, or waited too
   * long), with when to try again.
   */
  async acquire(clientId: string): Promise<Admission> {
    const e = this.endpoint(clientId);
    const openUntil = this.failing.get(clientId) ?? 0;
    const now = Date.now();
    if (openUntil > now) return { admitted: false, reason: 'breaker_open', retryAt: openUntil };
    if (openUntil > 0) {
      // Half-open: one probe at a time, across every worker.
      const answer = await this.guard.probe(clientId, this.s.probeLeaseMs, PROBE_RECHECK_MS);
      if (!answer.ok) return { admitted: false, reason: 'breaker_open', retryAt: answer.retryAt };
    }
    e.lastUsed = now;
    if (e.inUse < e.held && !e.waiters.length) return this.admit(e);
    const admission = new Promise<Admission>((resolve) => e.waiters.push({ since: now, resolve }));
    this.askForSlots(e);
    return admission;
  }

  /**
   * The result of an admitted send. Healthy endpoints are not reported (no Redis call); a failure,
   * or any result of an endpoint on the failing list, goes to the shared breaker.
   */
  async report(clientId: string, endpointFailed: boolean): Promise<void> {
    if (!endpointFailed && !this.failing.has(clientId)) return;
    const openUntil = await this.guard.record(clientId, endpointFailed);
    if (endpointFailed) this.failing.set(clientId, openUntil);
    else this.failing.delete(clientId);
    if (openUntil > Date.now()) {
      // The breaker just opened (or stays open): whatever waits for this endpoint waits for the probe instead.
      const e = this.endpoints.get(clientId);
      for (const w of e?.waiters.splice(0) ?? []) w.resolve({ admitted: false, reason: 'breaker_open', retryAt: openUntil });
    }
  }

  private endpoint(clientId: string): Endpoint {
    let e = this.endpoints.get(clientId);
    if (!e) {
      e = { clientId, held: 0, inUse: 0, waiters: [], lastUsed: Date.now(), asking: false, retryAt: 0, retryMs: 0, renewedAt: 0 };
      this.endpoints.set(clientId, e);
    }
    return e;
  }

  private admit(e: Endpoint): Admission {
    e.inUse += 1;
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        e.inUse -= 1;
        e.lastUsed = Date.now();
        this.drain(e);
      },
    };
  }

  /** Hands free slots to waiting sends, oldest first. */
  private drain(e: Endpoint): void {
    while (e.waiters.length && e.inUse < e.held) e.waiters.shift()!.resolve(this.admit(e));
  }

  /** Takes (more of) this worker's share of the endpoint's slots, backing off while others hold them. */
  private askForSlots(e: Endpoint): void {
    if (e.asking || this.stopped || e.held >= this.share || Date.now() < e.retryAt) return;
    e.asking = true;
    this.guard
      .holdSlots(e.clientId, this.s.owner, this.share, this.s.slotLeaseMs)
      .then(
        (held) => {
          const grew = held > e.held;
          e.held = held;
          e.renewedAt = Date.now();
          if (grew || held >= this.share) e.retryMs = 0;
          else {
            e.retryMs = Math.min(Math.max(e.retryMs * 2, SLOT_RETRY_MIN_MS), SLOT_RETRY_MAX_MS);
            e.retryAt = Date.now() + e.retryMs;
          }
        },
        (err: unknown) => {
          e.retryMs = Math.min(Math.max(e.retryMs * 2, SLOT_RETRY_MIN_MS), SLOT_RETRY_MAX_MS);
          e.retryAt = Date.now() + e.retryMs;
          unlessOutage(err, () => this.logger.warn({ err, clientId: e.clientId }, 'could not take endpoint slots'));
        },
      )
      .finally(() => {
        e.asking = false;
        this.drain(e);
        if (e.waiters.length && e.held < this.share) {
          setTimeout(() => this.askForSlots(e), Math.max(e.retryAt - Date.now(), 0)).unref();
        }
      });
  }

  /** Waits that ran too long are handed back, so a slow endpoint never holds claims near their lease. */
  private handBackLongWaits(): void {
    const limit = Date.now() - this.s.holdMaxMs;
    for (const e of this.endpoints.values()) {
      while (e.waiters.length && e.waiters[0].since < limit) {
        const jitter = Math.floor(Math.random() * 1000);
        e.waiters.shift()!.resolve({ admitted: false, reason: 'endpoint_busy', retryAt: Date.now() + 1000 + jitter });
      }
    }
  }

  /** Heartbeat (the live-worker count sets the share), slot renewal, and giving back idle endpoints' slots. */
  private async tick(first: boolean): Promise<void> {
    this.workers = await this.guard.heartbeat(this.s.owner, HEARTBEAT_MS * 3);
    if (first) return;
    const now = Date.now();
    for (const e of this.endpoints.values()) {
      if (e.held === 0 && !e.waiters.length) {
        if (now - e.lastUsed > IDLE_RELEASE_MS) this.endpoints.delete(e.clientId);
        continue;
      }
      const idle = e.inUse === 0 && !e.waiters.length && now - e.lastUsed > IDLE_RELEASE_MS;
      const want = idle ? 0 : this.share;
      // Renews the lease of the held slots a third of the way through it (or shrinks to the share when more workers joined).
      if (!idle && want === e.held && now - e.renewedAt < this.s.slotLeaseMs / 3) continue;
      e.held = await this.guard.holdSlots(e.clientId, this.s.owner, want, this.s.slotLeaseMs);
      e.renewedAt = now;
      if (idle) this.endpoints.delete(e.clientId);
      else this.drain(e);
    }
  }
}

import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { unlessOutage } from '@slo/errors';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { DELIVERY_RECORDED_CHANNEL } from './outcome-recorder';

/** Without a listening connection (it failed), a waiter looks again this often. */
const FALLBACK_POLL_MS = 100;

/**
 * Waits for deliveries to be recorded, driven by PostgreSQL notifications: the worker's recorder
 * notifies `slo_delivery_recorded` with the event id in the statement that records the outcome,
 * and one listening connection per process (opened on the first wait) wakes the requests waiting
 * for that event, which then look at their deliveries once. No polling while the connection is up.
 */
@Injectable()
export class DeliveryWaiter implements OnModuleDestroy {
  private readonly logger = new Logger(DeliveryWaiter.name);
  private listener: Promise<Client> | null = null;
  private readonly wakers = new Map<string, Set<() => void>>();
  private closed = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    const listener = this.listener;
    this.listener = null;
    if (listener) await (await listener.catch(() => null))?.end().catch(() => undefined);
  }

  /**
   * Resolves true once none of `deliveryIds` (of event `eventId`) is still open (pending,
   * delivering, retrying), false when `budgetMs` ran out first.
   */
  async waitFor(eventId: string, deliveryIds: string[], budgetMs: number): Promise<boolean> {
    if (!deliveryIds.length) return true;
    const deadline = Date.now() + budgetMs;
    let woken = false;
    let wake: () => void = () => undefined;
    const waker = () => {
      woken = true;
      wake();
    };
    const set = this.wakers.get(eventId) ?? new Set();
    set.add(waker);
    this.wakers.set(eventId, set);
    try {
      for (;;) {
        const listening = await this.listen(deadline);
        woken = false;
        if (!(await this.anyOpen(deliveryIds))) return true;
        const left = deadline - Date.now();
        if (left <= 0) return false;
        if (woken) continue; // a notification arrived while we looked
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, listening ? left : Math.min(left, FALLBACK_POLL_MS));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = () => undefined;
      }
    } finally {
      set.delete(waker);
      if (!set.size) this.wakers.delete(eventId);
    }
  }

  private async anyOpen(ids: string[]): Promise<boolean> {
    const rows: { n: number }[] = await this.db.query(
      `SELECT count(*)::int AS n FROM deliveries WHERE id = ANY($1) AND status IN ('pending', 'delivering', 'retrying')`,
      [ids],
    );
    return rows[0].n > 0;
  }

  /** The process's listening connection; false when it cannot be had before the deadline (then waiters poll). */
  private async listen(deadline: number): Promise<boolean> {
    if (this.closed) return false;
    this.listener ??= this.connect();
    const current = this.listener;
    const timeout = new Promise<null>((r) => setTimeout(() => r(null), Math.max(deadline - Date.now(), 0)).unref());
    const client = await Promise.race([current.catch(() => null), timeout]);
    return client !== null;
  }

  private async connect(): Promise<Client> {
    const client = new Client({ connectionString: this.config.database.url });
    const reset = (err?: unknown) => {
      if (err)
        unlessOutage(err, () =>
          this.logger.warn({ err }, 'delivery notification connection lost; waiters poll until it is back'),
        );
      this.listener = null;
      client.removeAllListeners();
      void client.end().catch(() => undefined);
      // Whoever waits looks again now (and reconnects on its next round).
      for (const set of this.wakers.values()) for (const w of set) w();
    };
    client.on('notification', (n) => {
      if (n.channel !== DELIVERY_RECORDED_CHANNEL || !n.payload) return;
      for (const w of this.wakers.get(n.payload) ?? []) w();
    });
    client.on('error', reset);
    client.on('end', () => this.listener === null || reset());
    try {
      await client.connect();
      await client.query(`LISTEN ${DELIVERY_RECORDED_CHANNEL}`);
      return client;
    } catch (err) {
      reset(err);
      throw err;
    }
  }
}

import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AddressPolicy } from '@slo/clients';
import { APP_CONFIG, AppConfig, DELIVERY_TIMEOUT_RANGE_MS } from '@slo/config';
import type { AttemptTrigger } from '@slo/database';
import { SigningKeysService } from '@slo/keys';
import { unlessOutage } from '@slo/errors';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { retryAfterMs } from './backoff';
import { DeliveryClaims } from './delivery-claims';
import { DeliveryMetrics } from './delivery-metrics';
import { DeliveryQueue, RetryItem } from './delivery-queue';
import { buildRequest, type ClaimedDelivery } from './delivery-request';
import { EndpointGate } from './endpoint-gate';
import { EndpointGuard } from './endpoint-guard';
import { EndpointStateService } from './endpoint-state.service';
import { HttpSender, SendResult } from './http-sender';
import { LogoutTokenMinter } from './logout-token';
import { isEndpointFailure, nextState, verdictOf } from './outcome-policy';
import { OutcomeRecorder } from './outcome-recorder';
import type { RunResult } from './run-result';
import { Slots } from './slots';

/** Deliveries of one event started before the worker looks at its sockets again. */
const HAND_OVER_CHUNK = 4;
/** Deliveries one worker holds claimed at once, as a multiple of its send concurrency. */
const IN_PROCESS_FACTOR = 16;

/**
 * The worker's delivery engine. A fan-out job claims all of an event's open deliveries in one
 * statement and hands them to this process's sends: each takes a slot of its endpoint's limit
 * (EndpointGate, in process), a send slot (DELIVERY_CONCURRENCY), a fresh token or signature,
 * and its outcome goes to the shared micro-batching recorder as soon as it completes. Deliveries
 * that need another attempt (and sends held back by the breaker or a busy endpoint) become
 * delayed jobs of their own. The fan-out job ends once its deliveries are claimed and handed
 * over; a worker that dies leaves its claims to lapse (lease), and the outbox relay re-enqueues.
 */
@Injectable()
export class DeliveryService implements OnModuleDestroy {
  private readonly logger = new Logger(DeliveryService.name);
  private readonly sender: HttpSender;
  private readonly minter: LogoutTokenMinter;
  private readonly guard: EndpointGuard;
  private gate: EndpointGate | null = null;
  private recorder: OutcomeRecorder;
  private readonly claims: DeliveryClaims;
  private readonly sendSlots: Slots;
  private readonly maxInProcess: number;
  private inProcess = 0;
  private roomWaiters: (() => void)[] = [];
  private retryBuffer: RetryItem[] = [];
  private readonly holdMaxMs: number;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    keys: SigningKeysService,
    private readonly metrics: DeliveryMetrics,
    private readonly queue: DeliveryQueue,
    private readonly endpoints: EndpointStateService,
  ) {
    this.sender = new HttpSender(new AddressPolicy(config.security.backchannelAllowedHosts));
    this.minter = new LogoutTokenMinter(config.identity.issuer, keys);
    this.guard = endpoints.guard;
    this.recorder = new OutcomeRecorder(db, { maxRows: 256, maxDelayMs: 2 });
    this.sendSlots = new Slots(config.delivery.concurrency);
    this.maxInProcess = config.delivery.concurrency * IN_PROCESS_FACTOR;
    // A send waits at most a quarter of the lease for its endpoint, then is handed back.
    this.holdMaxMs = Math.min(10_000, (config.delivery.leaseSeconds * 1000) / 4);
    this.claims = new DeliveryClaims(db, {
      leaseSeconds: config.delivery.leaseSeconds,
      defaultTimeoutMs: config.delivery.timeoutMs,
      waitSeconds: this.holdMaxMs / 1000 + 2,
      keyEncryptionKey: config.identity.keyEncryptionKey,
    });
  }

  /** Starts the in-process endpoint gate (the worker calls this; other apps never send). */
  async start(owner = `worker-${randomBytes(6).toString('hex')}`): Promise<void> {
    if (this.gate) return;
    this.gate = new EndpointGate(this.guard, {
      owner,
      slotLeaseMs: 15_000,
      holdMaxMs: this.holdMaxMs,
      // A probe may take the longest timeout any client can set; its lease outlasts it.
      probeLeaseMs: DELIVERY_TIMEOUT_RANGE_MS.max + 10_000,
    });
    await this.gate.start();
  }

  /** Waits for the sends in process and their records (graceful shutdown). */
  async stop(): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (this.inProcess > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await this.flushRetries();
    await this.recorder.drain();
    await this.gate?.stop();
    this.gate = null;
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
    this.sender.close();
  }

  /** Fan-out job: claims every open delivery of the event and starts their sends; resolves once they are handed over. */
  async runEvent(eventId: string): Promise<number> {
    await this.room();
    const rows = await this.claims.event(eventId);
    // The application that asked for the logout (where a redirect sends the user back) goes first.
    rows.sort((a, b) => Number(b.clientId === b.initiatorClientId) - Number(a.clientId === a.initiatorClientId));
    // Handed over a few at a time, letting I/O run in between: the first requests leave (and their
    // answers are read) while the rest are still being signed.
    for (let i = 0; i < rows.length; i += HAND_OVER_CHUNK) {
      if (i > 0) await new Promise<void>((r) => setImmediate(r));
      for (const d of rows.slice(i, i + HAND_OVER_CHUNK)) this.handOver(d);
    }
    return rows.length;
  }

  /** Delivery job: the one delivery, if it is still waiting for the attempt the job was scheduled for. */
  async runRetry(deliveryId: string, attempts: number): Promise<number> {
    await this.room();
    const rows = await this.claims.retry(deliveryId, attempts);
    for (const d of rows) this.handOver(d);
    return rows.length;
  }

  /**
   * One manual attempt now (operators, bulk retries), through the same endpoint limit and breaker;
   * resolves with its result. Refused while the delivery is in flight, when it was delivered (unless
   * forced), or when its endpoint is disabled or has no back-channel URI.
   */
  async runManual(deliveryId: string, force: boolean): Promise<RunResult> {
    const [d] = await this.claims.manual(deliveryId, force);
    if (!d) return { kind: 'refused' };
    this.inProcess += 1;
    try {
      return await this.deliver(d, 'manual');
    } finally {
      this.settled();
    }
  }

  private handOver(d: ClaimedDelivery): void {
    this.inProcess += 1;
    this.deliver(d, 'scheduled')
      .catch((err: unknown) =>
        unlessOutage(err, () => this.logger.error({ err, deliveryId: d.id }, 'delivery failed; its claim lapses to the relay')),
      )
      .finally(() => this.settled());
  }

  /** Back-pressure: a fan-out claims only while this process holds fewer than its cap of deliveries. */
  private async room(): Promise<void> {
    while (this.inProcess >= this.maxInProcess) await new Promise<void>((r) => this.roomWaiters.push(r));
  }

  private settled(): void {
    this.inProcess -= 1;
    const next = this.roomWaiters.shift();
    if (next) next();
  }

  private async deliver(d: ClaimedDelivery, trigger: AttemptTrigger): Promise<RunResult> {
    if (!d.uri || d.endpointStatus !== 'active') {
      await this.db.query(
        `UPDATE deliveries SET status = 'skipped', lease_until = NULL, next_attempt_at = NULL, last_error = $2, updated_at = now() WHERE id = $1`,
        [d.id, d.uri ? 'endpoint_disabled' : 'no_backchannel_uri'],
      );
      return { kind: 'finished', status: 'skipped' };
    }
    if (!this.gate) await this.start();
    const admission = await this.gate!.acquire(d.clientId);
    if (!admission.admitted) {
      // Held back, not attempted: no attempt is used up. Spread the wake-ups a little.
      const at = admission.retryAt + Math.floor(Math.random() * 250);
      await this.recorder.release({ deliveryId: d.id, nextAt: new Date(at) });
      this.scheduleRetry({ deliveryId: d.id, eventId: d.eventId, clientId: d.clientId, attempts: d.attempts, at, held: true });
      return { kind: 'later', at, reason: admission.reason };
    }
    let result: SendResult;
    const number = d.attempts + 1;
    const startedAt = new Date();
    try {
      const request = await buildRequest(d, this.config.identity.issuer, this.minter);
      await this.sendSlots.acquire();
      try {
        result = await this.sender.send({
          url: d.uri,
          ...request,
          timeoutMs: d.timeoutMs ?? this.config.delivery.timeoutMs,
        });
      } finally {
        this.sendSlots.release();
      }
    } catch (err) {
      admission.release();
      // Nothing was sent (no key, a bug): give the claim back for a later try.
      await this.recorder.release({ deliveryId: d.id, nextAt: new Date(Date.now() + 5000) });
      this.scheduleRetry({
        deliveryId: d.id,
        eventId: d.eventId,
        clientId: d.clientId,
        attempts: d.attempts,
        at: Date.now() + 5000,
        held: true,
      });
      throw err;
    }
    admission.release();
    const failed = isEndpointFailure(result);
    void this.gate!.report(d.clientId, failed).catch((err: unknown) =>
      unlessOutage(err, () => this.logger.warn({ err, clientId: d.clientId }, 'could not update the circuit breaker')),
    );

    const settings = this.config.delivery;
    const next = nextState({
      verdict: verdictOf(result),
      attempt: number,
      maxAttempts: d.maxAttempts ?? settings.maxAttempts,
      retryAfterMs: result.ok ? retryAfterMs(result.retryAfter, settings.retryAfterMaxMs) : null,
      backoff: { baseMs: settings.backoffBaseMs, maxMs: settings.backoffMaxMs },
      now: Date.now(),
    });
    const errorClass = describeFailure(result);
    this.metrics.attempts.inc({ outcome: next.outcome });
    this.metrics.attemptDuration.observe({ outcome: next.outcome }, result.durationMs / 1000);
    // The initiator's outcome is written at once: a logout redirect may be waiting for it.
    const urgent = d.clientId === d.initiatorClientId;
    await this.recorder.record(
      {
        attemptId: uuidv7(),
        deliveryId: d.id,
        number,
        trigger,
        startedAt,
        durationMs: result.durationMs,
        statusCode: result.ok ? result.statusCode : null,
        errorClass,
        outcome: next.outcome,
        excerpt: result.ok ? result.excerpt || null : result.message.slice(0, 1024),
        status: next.status,
        nextAt: next.nextAt === null ? null : new Date(next.nextAt),
      },
      urgent,
    );
    if (next.disableEndpoint) {
      await this.endpoints.disableGone(d.clientId, `the endpoint answered 410 Gone to delivery ${d.id}`);
    }
    if (next.status === 'dead') {
      this.logger.warn({ deliveryId: d.id, clientId: d.clientId, attempts: number, error: errorClass }, 'delivery is dead');
    }
    if (next.nextAt === null) return { kind: 'finished', status: next.status };
    this.scheduleRetry({ deliveryId: d.id, eventId: d.eventId, clientId: d.clientId, attempts: number, at: next.nextAt });
    return { kind: 'later', at: next.nextAt, reason: 'retry' };
  }

  /** Retry jobs of one tick go to Redis together. */
  private scheduleRetry(item: RetryItem): void {
    if (this.retryBuffer.push(item) === 1) setImmediate(() => void this.flushRetries());
  }

  private async flushRetries(): Promise<void> {
    const items = this.retryBuffer.splice(0);
    await this.queue.retry(items);
  }
}

/** The error class recorded with an attempt: null for 2xx, `http_<status>` for other answers. */
function describeFailure(result: SendResult): string | null {
  if (!result.ok) return result.errorClass;
  return result.statusCode >= 200 && result.statusCode < 300 ? null : `http_${result.statusCode}`;
}

import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ClientEntity, DeliveryEntity, DeliveryStatus, LogoutEventEntity } from '@slo/database';
import { AppError, ErrorCode } from '@slo/observability';
import { DeliveryJob, deliveryJobOptions, QueueName } from '@slo/queue';
import { Queue } from 'bullmq';
import { DataSource, EntityManager, In, IsNull } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { Participant, planDeliveries, TargetClient } from './delivery-plan';
import { LogoutRequest, requestFingerprint } from './logout-request';
import { endSessions } from './session-ending';

export interface RecordedDelivery {
  id: string;
  clientId: string;
  sid: string;
  status: DeliveryStatus;
}

export interface RecordedLogout {
  event: LogoutEventEntity;
  deliveries: RecordedDelivery[];
  /** true when an idempotency key matched an earlier, identical request. */
  replayed: boolean;
  /** The clients that took part in the ended session(s) (front-channel logout needs them too). */
  participants: Participant[];
}

/**
 * The single entry point for every logout (identity, api and worker alike). In one PostgreSQL
 * transaction it ends the session(s), writes the logout event and one delivery per target client
 * (transactional outbox); after commit the deliveries go to the queue. Should that enqueue fail,
 * the worker's outbox relay picks them up: PostgreSQL is the source of truth, Redis the transport.
 */
@Injectable()
export class LogoutService {
  private readonly logger = new Logger(LogoutService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectQueue(QueueName.Delivery) private readonly queue: Queue,
  ) {}

  async record(req: LogoutRequest): Promise<RecordedLogout> {
    if (!req.sub && !req.sid) throw AppError.validation('sub', 'a logout needs sub, sid or both');
    const recorded = await this.db.transaction((tx) => this.recordIn(tx, req));
    await this.enqueue(recorded.deliveries.filter((d) => d.status === 'pending'));
    return recorded;
  }

  /**
   * Waits until none of these deliveries is still open (pending, delivering, retrying), or the
   * budget runs out. For redirects that should land after the applications ended their sessions.
   * Returns true when all finished in time.
   */
  async waitForDeliveries(deliveryIds: string[], budgetMs: number): Promise<boolean> {
    const deadline = Date.now() + budgetMs;
    for (;;) {
      if (!deliveryIds.length) return true;
      const rows: { n: number }[] = await this.db.query(
        `SELECT count(*)::int AS n FROM deliveries WHERE id = ANY($1) AND status IN ('pending', 'delivering', 'retrying')`,
        [deliveryIds],
      );
      if (rows[0].n === 0) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, Math.min(50, Math.max(deadline - Date.now(), 0))));
    }
  }

  /**
   * Recover: every delivery to `clientId` created in [since, until) that did not succeed (rejected,
   * dead, skipped) is opened again and queued; returns how many. Deliveries still in progress are
   * left to their schedule.
   */
  async reopenForClient(clientId: string, since: Date, until: Date): Promise<number> {
    const [rows] = (await this.db.query(
      `UPDATE deliveries SET status = 'pending', next_attempt_at = now(), lease_until = NULL, updated_at = now()
        WHERE client_id = $1 AND created_at >= $2 AND created_at < $3 AND status IN ('rejected', 'dead', 'skipped')
        RETURNING id, client_id AS "clientId"`,
      [clientId, since, until],
    )) as [{ id: string; clientId: string }[], number];
    for (let i = 0; i < rows.length; i += 1000) await this.enqueue(rows.slice(i, i + 1000));
    if (rows.length) this.logger.log({ clientId, count: rows.length }, 'reopened deliveries for recovery');
    return rows.length;
  }

  /** Puts deliveries on the queue; a failure is logged, not thrown (the relay re-enqueues). */
  async enqueue(deliveries: Pick<RecordedDelivery, 'id' | 'clientId'>[], notBefore = 0): Promise<void> {
    if (!deliveries.length) return;
    try {
      await this.queue.addBulk(
        deliveries.map((d) => ({
          name: DeliveryJob.Deliver,
          data: { deliveryId: d.id, clientId: d.clientId },
          opts: deliveryJobOptions(d.id, notBefore - Date.now()),
        })),
      );
    } catch (err) {
      this.logger.warn({ err, count: deliveries.length }, 'enqueue after commit failed; the outbox relay will enqueue');
    }
  }

  private async recordIn(tx: EntityManager, req: LogoutRequest): Promise<RecordedLogout> {
    const requestHash = req.idempotencyKey ? requestFingerprint(req) : null;
    if (req.idempotencyKey) {
      const replay = await this.replay(tx, req, requestHash!);
      if (replay) return replay;
    }
    const sid = req.sid ?? null;
    const keep = req.keepSessions || req.trigger === 'external';
    const ended = keep ? { sids: sid ? [sid] : [], sub: null } : await endSessions(tx, req.sub ?? null, sid);
    const participants: Participant[] = await tx.query(
      `SELECT client_id AS "clientId", sid, sub FROM session_clients
       WHERE sid = ANY($1) OR ($2::varchar IS NOT NULL AND $3::boolean AND sub = $2)`,
      [sid ? [sid] : ended.sids, req.sub ?? null, sid === null],
    );
    const sub = req.sub ?? ended.sub ?? participants[0]?.sub ?? null;
    const clients = await this.targetClients(tx, participants, req.targetClientIds);

    const event = tx.getRepository(LogoutEventEntity).create({
      id: uuidv7(),
      trigger: req.trigger,
      sub,
      sid,
      endedSids: [...new Set([...ended.sids, ...participants.map((p) => p.sid)])],
      initiatorClientId: req.initiatorClientId ?? null,
      idempotencyKey: req.idempotencyKey ?? null,
      requestHash,
      occurredAt: req.occurredAt ?? new Date(),
    });
    await tx.getRepository(LogoutEventEntity).insert(event);

    const plan = planDeliveries({
      sub,
      sid,
      participants,
      clients,
      explicitTargets: req.targetClientIds,
      sessionExpired: req.trigger === 'session_expired',
    });
    const now = new Date();
    const deliveries = plan.map((p) => ({
      id: uuidv7(),
      eventId: event.id,
      clientId: p.clientId,
      sub: p.sub,
      sid: p.sid,
      status: p.status,
      lastError: p.lastError,
      nextAttemptAt: p.status === 'pending' ? now : null,
    }));
    if (deliveries.length) await tx.getRepository(DeliveryEntity).insert(deliveries);
    if (keep && req.targetClientIds) {
      await tx.query('DELETE FROM session_clients WHERE sid = ANY($1) AND client_id = ANY($2)', [
        event.endedSids,
        req.targetClientIds,
      ]);
    } else if (event.endedSids.length) {
      await tx.query('DELETE FROM session_clients WHERE sid = ANY($1)', [event.endedSids]);
    }
    if (req.inTransaction) await req.inTransaction(tx);
    return {
      event: await tx.getRepository(LogoutEventEntity).findOneByOrFail({ id: event.id }),
      deliveries: deliveries.map(({ id, clientId, sid: s, status }) => ({ id, clientId, sid: s, status })),
      replayed: false,
      participants,
    };
  }

  /** An earlier event with the same idempotency key: the same answer, or a conflict if the request differs. */
  private async replay(tx: EntityManager, req: LogoutRequest, requestHash: string): Promise<RecordedLogout | null> {
    // Serialises concurrent requests carrying the same key; the second one then sees the first one's event.
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `logout-idempotency:${req.initiatorClientId ?? ''}:${req.idempotencyKey}`,
    ]);
    const existing = await tx.getRepository(LogoutEventEntity).findOneBy({
      initiatorClientId: req.initiatorClientId ?? IsNull(),
      idempotencyKey: req.idempotencyKey!,
    });
    if (!existing) return null;
    if (existing.requestHash !== requestHash) {
      throw new AppError(ErrorCode.Conflict, 'Idempotency-Key was already used for a different logout request', [
        { field: 'Idempotency-Key', problems: [`already used for event ${existing.id} with a different body`] },
      ]);
    }
    const deliveries = await tx.getRepository(DeliveryEntity).find({
      where: { eventId: existing.id },
      select: { id: true, clientId: true, sid: true, status: true },
    });
    return { event: existing, deliveries, replayed: true, participants: [] };
  }

  /** The candidate clients; explicitly named targets must exist and have a back-channel endpoint. */
  private async targetClients(
    tx: EntityManager,
    participants: Participant[],
    explicit: string[] | undefined,
  ): Promise<Map<string, TargetClient>> {
    const ids = [...new Set([...participants.map((p) => p.clientId), ...(explicit ?? [])])];
    const rows = ids.length ? await tx.getRepository(ClientEntity).findBy({ clientId: In(ids) }) : [];
    const byId = new Map(rows.map((c) => [c.clientId, c]));
    const problems = (explicit ?? []).flatMap((id, i) => {
      const c = byId.get(id);
      if (!c) return [{ field: `target_clients[${i}]`, problems: [`client ${id} does not exist`] }];
      if (!c.backchannelLogoutUri) {
        return [{ field: `target_clients[${i}]`, problems: [`client ${id} has no backchannel_logout_uri`] }];
      }
      return [];
    });
    if (problems.length) throw AppError.validationMany(problems);
    return new Map(
      rows.map((c) => [
        c.clientId,
        {
          clientId: c.clientId,
          backchannelLogoutUri: c.backchannelLogoutUri,
          sessionRequired: c.backchannelLogoutSessionRequired,
          endpointDisabled: c.endpointStatus === 'disabled',
          notifySessionExpired: c.notifySessionExpired,
        },
      ]),
    );
  }
}

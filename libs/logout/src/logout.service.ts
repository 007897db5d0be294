import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DeliveryQueue, DeliveryWaiter } from '@slo/delivery';
import { DeliveryEntity, DeliveryStatus, LogoutEventEntity } from '@slo/database';
import { AppError, ErrorCode } from '@slo/errors';
import { endSessions } from '@slo/sessions';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { Participant, planDeliveries, TargetClient } from './delivery-plan';
import { LogoutRequest, requestFingerprint } from './logout-request';

interface RecordedDelivery {
  id: string;
  clientId: string;
  sid: string;
  status: DeliveryStatus;
}

/** A participant of the ended session(s) that registered a front-channel logout URI. */
interface FrontchannelTarget {
  clientId: string;
  sid: string;
  uri: string;
}

export interface RecordedLogout {
  event: LogoutEventEntity;
  deliveries: RecordedDelivery[];
  /** true when an idempotency key matched an earlier, identical request. */
  replayed: boolean;
  /** The clients that took part in the ended session(s). */
  participants: Participant[];
  /** Front-channel logout targets, from the rows the logout already loaded (no further look-ups). */
  frontchannel: FrontchannelTarget[];
}

interface ClientRow {
  client_id: string;
  status: string;
  backchannel_logout_uri: string | null;
  backchannel_logout_session_required: boolean;
  endpoint_status: string;
  notify_session_expired: boolean;
  frontchannel_logout_uri: string | null;
}

// Every delivery of the plan in one statement, whatever the number of clients.
const INSERT_DELIVERIES_SQL = `
  INSERT INTO deliveries (id, event_id, client_id, sub, sid, status, last_error, next_attempt_at)
  SELECT t.id, $1, t.client_id, t.sub, t.sid, t.status, t.last_error, CASE WHEN t.status = 'pending' THEN now() END
    FROM unnest($2::uuid[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], $7::varchar[])
      AS t(id, client_id, sub, sid, status, last_error)`;

/**
 * The single entry point for every logout (identity, api and worker alike). In one PostgreSQL
 * transaction, with a fixed number of statements whatever the number of clients, it ends the
 * session(s), writes the logout event and every delivery of the plan (transactional outbox);
 * after commit one fan-out job for the event goes to the queue. Should that enqueue fail, the
 * worker's outbox relay picks the event up: PostgreSQL is the source of truth, Redis the transport.
 */
/** PostgreSQL's refusal of a row no partition covers (check_violation "no partition of relation … found for row"). */
function isMissingPartition(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '23514' && /no partition of relation/.test(e.message ?? '');
}

@Injectable()
export class LogoutService {
  private readonly logger = new Logger(LogoutService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly queue: DeliveryQueue,
    private readonly waiter: DeliveryWaiter,
  ) {}

  async record(req: LogoutRequest): Promise<RecordedLogout> {
    if (!req.sub && !req.sid) throw AppError.validation('sub', 'a logout needs sub, sid or both');
    const recorded = await this.db
      .transaction((tx) => this.recordIn(tx, req))
      .catch(async (err: unknown) => {
        if (!isMissingPartition(err)) throw err;
        // The worker makes the coming months ahead; if it has been down that long, make this one
        // now rather than refuse the logout.
        this.logger.warn('no delivery partition for this month: creating it (is the worker running its maintenance jobs?)');
        await this.db.query('SELECT create_delivery_partitions(now(), 1)');
        return this.db.transaction((tx) => this.recordIn(tx, req));
      });
    if (!recorded.replayed && recorded.deliveries.some((d) => d.status === 'pending')) {
      await this.queue.fanout([recorded.event.id]);
    }
    return recorded;
  }

  /**
   * Waits until the logout's open deliveries (only those to `clientId`, when given) are no longer
   * open, or the budget runs out; woken by the worker's notifications, not by polling. For
   * redirects that should land after the applications ended their sessions. Returns true when
   * they finished in time.
   */
  async waitForDeliveries(recorded: RecordedLogout, budgetMs: number, clientId?: string): Promise<boolean> {
    const ids = recorded.deliveries
      .filter((d) => d.status === 'pending' && (clientId === undefined || d.clientId === clientId))
      .map((d) => d.id);
    return this.waiter.waitFor(recorded.event.id, ids, budgetMs);
  }

  private async recordIn(tx: EntityManager, req: LogoutRequest): Promise<RecordedLogout> {
    const requestHash = req.idempotencyKey ? requestFingerprint(req) : null;
    if (req.idempotencyKey) {
      const replay = await this.replay(tx, req, requestHash!);
      if (replay) return replay;
    }
    const sid = req.sid ?? null;
    const keep = req.keepSessions || req.trigger === 'external';
    const ended = keep ? { sids: sid ? [sid] : [], sub: null } : await endSessions(tx, req.sub ?? null, sid, req.grantIds);
    const participants: Participant[] = await tx.query(
      `SELECT client_id AS "clientId", sid, sub FROM session_clients
       WHERE sid = ANY($1) OR ($2::varchar IS NOT NULL AND $3::boolean AND sub = $2)`,
      [sid ? [sid] : ended.sids, req.sub ?? null, sid === null],
    );
    const sub = req.sub ?? ended.sub ?? participants[0]?.sub ?? null;
    const rows = await this.candidateClients(tx, participants, req.targetClientIds);
    const clients = new Map(
      rows.map((c) => [
        c.client_id,
        {
          clientId: c.client_id,
          backchannelLogoutUri: c.backchannel_logout_uri,
          sessionRequired: c.backchannel_logout_session_required,
          endpointDisabled: c.endpoint_status === 'disabled',
          notifySessionExpired: c.notify_session_expired,
        } satisfies TargetClient,
      ]),
    );

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
    const deliveries = plan.map((p) => ({ id: uuidv7(), ...p }));
    if (deliveries.length) {
      await tx.query(INSERT_DELIVERIES_SQL, [
        event.id,
        deliveries.map((d) => d.id),
        deliveries.map((d) => d.clientId),
        deliveries.map((d) => d.sub),
        deliveries.map((d) => d.sid),
        deliveries.map((d) => d.status),
        deliveries.map((d) => d.lastError),
      ]);
    }
    if (keep && req.targetClientIds) {
      await tx.query('DELETE FROM session_clients WHERE sid = ANY($1) AND client_id = ANY($2)', [
        event.endedSids,
        req.targetClientIds,
      ]);
    } else if (event.endedSids.length) {
      await tx.query('DELETE FROM session_clients WHERE sid = ANY($1)', [event.endedSids]);
    }
    if (req.inTransaction) await req.inTransaction(tx);
    const byId = new Map(rows.map((c) => [c.client_id, c]));
    return {
      event,
      deliveries: deliveries.map(({ id, clientId, sid: s, status }) => ({ id, clientId, sid: s, status })),
      replayed: false,
      participants,
      frontchannel: participants.flatMap((p) => {
        const c = byId.get(p.clientId);
        return c?.status === 'active' && c.frontchannel_logout_uri
          ? [{ clientId: p.clientId, sid: p.sid, uri: c.frontchannel_logout_uri }]
          : [];
      }),
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
    return { event: existing, deliveries, replayed: true, participants: [], frontchannel: [] };
  }

  /** The candidate clients, in one query; explicitly named targets must exist and have a back-channel endpoint. */
  private async candidateClients(
    tx: EntityManager,
    participants: Participant[],
    explicit: string[] | undefined,
  ): Promise<ClientRow[]> {
    const ids = [...new Set([...participants.map((p) => p.clientId), ...(explicit ?? [])])];
    const rows: ClientRow[] = ids.length
      ? await tx.query(
          `SELECT client_id, status, backchannel_logout_uri, backchannel_logout_session_required, endpoint_status,
                  notify_session_expired, frontchannel_logout_uri
             FROM clients WHERE client_id = ANY($1)`,
          [ids],
        )
      : [];
    const byId = new Map(rows.map((c) => [c.client_id, c]));
    const problems = (explicit ?? []).flatMap((id, i) => {
      const c = byId.get(id);
      if (!c) return [{ field: `target_clients[${i}]`, problems: [`client ${id} does not exist`] }];
      if (!c.backchannel_logout_uri) {
        return [{ field: `target_clients[${i}]`, problems: [`client ${id} has no backchannel_logout_uri`] }];
      }
      return [];
    });
    if (problems.length) throw AppError.validationMany(problems);
    return rows;
  }
}

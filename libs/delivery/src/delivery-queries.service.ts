import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Keyset, Page, PageRequest, uuidKey } from '@slo/database';
import { AppError, ErrorCode } from '@slo/errors';
import { isUuid } from '@slo/validation';
import { DataSource } from 'typeorm';

/** Who asks: an operator sees everything, a client only what was sent to it. */
export interface Viewer {
  /** null for operators (scope admin). */
  clientId: string | null;
}

export interface EventFilter {
  sub?: string;
  sid?: string;
  clientId?: string;
  trigger?: string;
  since?: Date;
  until?: Date;
}

export interface DeliveryFilter {
  clientId?: string;
  status?: string;
  eventId?: string;
  since?: Date;
  until?: Date;
}

type Row = Record<string, unknown>;

/** Ids are UUIDv7 (time-ordered): newest first is descending id. */
const EVENTS_BY_ID = new Keyset([uuidKey('e.id')], AppError.validation);
const DELIVERIES_BY_ID = new Keyset([uuidKey('d.id')], AppError.validation);

/** WHERE conditions with numbered parameters, built up from optional filters. */
class Conditions {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];

  /** `sql` has one `?` for `value`. */
  add(sql: string, value: unknown): void {
    this.params.push(value);
    this.parts.push(sql.replace('?', `$${this.params.length}`));
  }

  where(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }

  /** A condition whose placeholders were made with param(); nothing when null. */
  addSql(sql: string | null): void {
    if (sql) this.parts.push(sql);
  }

  /** A parameter placeholder for `value` (e.g. the LIMIT). */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
}

const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : null);

function deliveryView(r: Row) {
  return {
    id: r.id as string,
    event_id: r.event_id as string,
    client_id: r.client_id as string,
    sub: (r.sub as string | null) ?? null,
    sid: (r.sid as string) || null,
    status: r.status as string,
    attempts: r.attempts as number,
    next_attempt_at: iso(r.next_attempt_at),
    last_attempt_at: iso(r.last_attempt_at),
    last_status_code: (r.last_status_code as number | null) ?? null,
    last_error: (r.last_error as string | null) ?? null,
    delivered_at: iso(r.delivered_at),
    created_at: iso(r.created_at),
  };
}
export type DeliveryView = ReturnType<typeof deliveryView>;

/**
 * An event as `viewer` may see it. Operators see it whole. A client sees only what the event told
 * it: of `ended_sids` the sessions its own deliveries name (`toldSids`), and the initiating client
 * only when that is itself; other clients' sessions and identities stay hidden.
 */
function eventView(r: Row, viewer: Viewer, toldSids: string[] = []) {
  const endedSids = r.ended_sids as string[];
  const initiator = (r.initiator_client_id as string | null) ?? null;
  return {
    id: r.id as string,
    trigger: r.trigger as string,
    sub: (r.sub as string | null) ?? null,
    sid: (r.sid as string | null) ?? null,
    ended_sids: viewer.clientId === null ? endedSids : endedSids.filter((sid) => toldSids.includes(sid)),
    initiator_client_id: viewer.clientId === null || initiator === viewer.clientId ? initiator : null,
    occurred_at: iso(r.occurred_at),
    created_at: iso(r.created_at),
  };
}
export type EventView = ReturnType<typeof eventView>;

/**
 * Read side of the pipeline for operators and clients: events, deliveries, attempts, newest
 * first. Ids are UUIDv7 (time-ordered), so the cursor is the last id seen (Keyset, @slo/database)
 * and pages stay stable while new events arrive. Reads PostgreSQL only, never Redis.
 */
@Injectable()
export class DeliveryQueries {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async listEvents(viewer: Viewer, f: EventFilter, page: PageRequest): Promise<Page<EventView>> {
    const c = new Conditions();
    if (f.sub) c.add('e.sub = ?', f.sub);
    if (f.sid && viewer.clientId !== null) {
      // A client finds an event by a session only when the event told it about that session.
      const own = c.param(viewer.clientId);
      c.add(`EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.client_id = ${own} AND d.sid = ?)`, f.sid);
    } else if (f.sid) c.add('? = ANY(e.ended_sids)', f.sid);
    if (f.trigger) c.add('e.trigger = ?', f.trigger);
    if (f.since) c.add('e.created_at >= ?', f.since);
    if (f.until) c.add('e.created_at < ?', f.until);
    const client = viewer.clientId ?? f.clientId;
    if (client) c.add('EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.client_id = ?)', client);
    c.addSql(EVENTS_BY_ID.after(page.cursor, (v) => c.param(v)));
    const limit = c.param(page.limit + 1);
    const told =
      viewer.clientId === null
        ? ''
        : `, ARRAY(SELECT d.sid FROM deliveries d WHERE d.event_id = e.id AND d.client_id = ${c.param(viewer.clientId)} AND d.sid <> '') AS told_sids`;
    const rows: Row[] = await this.db.query(
      `SELECT e.*, ${EVENTS_BY_ID.select()}${told} FROM logout_events e ${c.where()} ORDER BY ${EVENTS_BY_ID.orderBy()} LIMIT ${limit}`,
      c.params,
    );
    const events = EVENTS_BY_ID.page(rows, rows, page.limit);
    return { ...events, data: events.data.map((r) => eventView(r, viewer, (r.told_sids as string[] | undefined) ?? [])) };
  }

  async getEvent(viewer: Viewer, id: string): Promise<EventView & { deliveries: DeliveryView[] }> {
    if (!isUuid(id)) throw new AppError(ErrorCode.NotFound, `logout event ${id} does not exist`);
    const [event]: Row[] = await this.db.query('SELECT * FROM logout_events WHERE id = $1', [id]);
    const deliveries: Row[] = event
      ? await this.db.query(
          `SELECT * FROM deliveries WHERE event_id = $1 AND ($2::varchar IS NULL OR client_id = $2) ORDER BY client_id, sid`,
          [id, viewer.clientId],
        )
      : [];
    if (!event || (viewer.clientId && deliveries.length === 0)) {
      throw new AppError(ErrorCode.NotFound, `logout event ${id} does not exist`);
    }
    const told = deliveries.map((d) => d.sid as string).filter(Boolean);
    return { ...eventView(event, viewer, told), deliveries: deliveries.map(deliveryView) };
  }

  async listDeliveries(viewer: Viewer, f: DeliveryFilter, page: PageRequest): Promise<Page<DeliveryView>> {
    const c = new Conditions();
    const client = viewer.clientId ?? f.clientId;
    if (client) c.add('d.client_id = ?', client);
    if (f.status) c.add('d.status = ?', f.status);
    if (f.eventId) c.add('d.event_id = ?', f.eventId);
    if (f.since) c.add('d.created_at >= ?', f.since);
    if (f.until) c.add('d.created_at < ?', f.until);
    c.addSql(DELIVERIES_BY_ID.after(page.cursor, (v) => c.param(v)));
    const limit = c.param(page.limit + 1);
    const rows: Row[] = await this.db.query(
      `SELECT d.*, ${DELIVERIES_BY_ID.select()} FROM deliveries d ${c.where()} ORDER BY ${DELIVERIES_BY_ID.orderBy()} LIMIT ${limit}`,
      c.params,
    );
    const deliveries = DELIVERIES_BY_ID.page(rows, rows, page.limit);
    return { ...deliveries, data: deliveries.data.map(deliveryView) };
  }

  async getDelivery(viewer: Viewer, id: string): Promise<DeliveryView> {
    const rows: Row[] = isUuid(id)
      ? await this.db.query('SELECT * FROM deliveries WHERE id = $1 AND ($2::varchar IS NULL OR client_id = $2)', [
          id,
          viewer.clientId,
        ])
      : [];
    if (!rows[0]) throw new AppError(ErrorCode.NotFound, `delivery ${id} does not exist`);
    return deliveryView(rows[0]);
  }

  async attempts(viewer: Viewer, deliveryId: string) {
    await this.getDelivery(viewer, deliveryId);
    const rows: Row[] = await this.db.query('SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY number', [
      deliveryId,
    ]);
    return rows.map((r) => ({
      number: r.number as number,
      trigger: r.trigger as string,
      started_at: iso(r.started_at),
      duration_ms: r.duration_ms as number,
      status_code: (r.status_code as number | null) ?? null,
      error_class: (r.error_class as string | null) ?? null,
      outcome: r.outcome as string,
      response_excerpt: (r.response_excerpt as string | null) ?? null,
    }));
  }
}

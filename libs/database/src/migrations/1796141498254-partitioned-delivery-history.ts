import { MigrationInterface, QueryRunner } from 'typeorm';

/** Columns of deliveries, in table order (the copy names them so). */
const DELIVERY_COLUMNS =
  'id, event_id, client_id, sub, sid, status, attempts, next_attempt_at, lease_until, last_attempt_at, last_status_code, last_error, delivered_at, created_at, updated_at';
const ATTEMPT_COLUMNS =
  'id, delivery_id, number, trigger, started_at, duration_ms, status_code, error_class, outcome, response_excerpt';

const DELIVERIES_TABLE = (name: string, pk: string, partitioned: boolean) => `
  CREATE TABLE "${name}" (
    "id" uuid NOT NULL,
    "event_id" uuid NOT NULL,
    "client_id" character varying(100) NOT NULL,
    "sub" character varying(255),
    "sid" character varying(128) NOT NULL DEFAULT '',
    "status" character varying(20) NOT NULL,
    "attempts" integer NOT NULL DEFAULT '0',
    "next_attempt_at" TIMESTAMP WITH TIME ZONE,
    "lease_until" TIMESTAMP WITH TIME ZONE,
    "last_attempt_at" TIMESTAMP WITH TIME ZONE,
    "last_status_code" integer,
    "last_error" character varying(200),
    "delivered_at" TIMESTAMP WITH TIME ZONE,
    "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
    "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
    CONSTRAINT "${pk}" PRIMARY KEY ("id")
  )${partitioned ? ' PARTITION BY RANGE ("id")' : ''}`;

const ATTEMPTS_TABLE = (name: string, pk: string, partitioned: boolean) => `
  CREATE TABLE "${name}" (
    "id" uuid NOT NULL,
    "delivery_id" uuid NOT NULL,
    "number" integer NOT NULL,
    "trigger" character varying(20) NOT NULL,
    "started_at" TIMESTAMP WITH TIME ZONE NOT NULL,
    "duration_ms" integer NOT NULL,
    "status_code" integer,
    "error_class" character varying(200),
    "outcome" character varying(20) NOT NULL,
    "response_excerpt" text,
    CONSTRAINT "${pk}" PRIMARY KEY (${partitioned ? '"id", "delivery_id"' : '"id"'})
  )${partitioned ? ' PARTITION BY RANGE ("delivery_id")' : ''}`;

/** The indexes and foreign keys both shapes share (on a partitioned table, each partition gets its own copy). */
const SHARED = [
  `CREATE INDEX "deliveries_open_due_idx" ON "deliveries" ("next_attempt_at") WHERE status IN ('pending', 'delivering', 'retrying')`,
  `CREATE INDEX "deliveries_client_created_idx" ON "deliveries" ("client_id", "created_at")`,
  `CREATE INDEX "delivery_attempts_started_at_idx" ON "delivery_attempts" ("started_at")`,
  `CREATE UNIQUE INDEX "delivery_attempts_delivery_number_key" ON "delivery_attempts" ("delivery_id", "number")`,
  `ALTER TABLE "deliveries" ADD CONSTRAINT "FK_6a9b04f909fedcc6438b48b90c1" FOREIGN KEY ("event_id") REFERENCES "logout_events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "deliveries" ADD CONSTRAINT "FK_40f921e26667637650ad149457d" FOREIGN KEY ("client_id") REFERENCES "clients"("client_id") ON DELETE CASCADE ON UPDATE NO ACTION`,
  `ALTER TABLE "delivery_attempts" ADD CONSTRAINT "FK_a9d7e7212c87084249a641ab455" FOREIGN KEY ("delivery_id") REFERENCES "deliveries"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
];

/** The smallest UUIDv7 of an instant (ms): every UUIDv7 made at or after it sorts at or above it. */
const UUID7_FLOOR = `
  CREATE FUNCTION uuid7_floor(at timestamptz) RETURNS uuid LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT (lpad(to_hex(floor(extract(epoch FROM at) * 1000)::bigint), 12, '0') || repeat('0', 20))::uuid
  $$`;

/**
 * The month partitions (UTC) of deliveries and delivery_attempts from `first_month` on, `months` of
 * them, unless they exist; returns how many tables it made. Bounds: [first instant of the month,
 * first instant of the next) as UUIDv7 floors; each deliveries partition gets its unique index on
 * (event_id, client_id, sid).
 */
const CREATE_PARTITIONS = `
  CREATE FUNCTION create_delivery_partitions(first_month timestamptz, months int) RETURNS int LANGUAGE plpgsql AS $$
  DECLARE
    m timestamp := date_trunc('month', first_month AT TIME ZONE 'UTC');
    lo uuid;
    hi uuid;
    d text;
    a text;
    made int := 0;
  BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('create_delivery_partitions'));
    FOR i IN 1..months LOOP
      d := 'deliveries_p' || to_char(m, 'YYYYMM');
      a := 'delivery_attempts_p' || to_char(m, 'YYYYMM');
      lo := uuid7_floor(m AT TIME ZONE 'UTC');
      hi := uuid7_floor((m + interval '1 month') AT TIME ZONE 'UTC');
      IF to_regclass(d) IS NULL THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF deliveries FOR VALUES FROM (%L) TO (%L)', d, lo, hi);
        EXECUTE format('CREATE UNIQUE INDEX %I ON %I (event_id, client_id, sid)', d || '_event_client_sid_key', d);
        made := made + 1;
      END IF;
      IF to_regclass(a) IS NULL THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF delivery_attempts FOR VALUES FROM (%L) TO (%L)', a, lo, hi);
        made := made + 1;
      END IF;
      m := m + interval '1 month';
    END LOOP;
    RETURN made;
  END $$`;

/** The creation time a UUIDv7 carries (its first 48 bits, ms since the epoch). */
const UUID7_TIME = (col: string) => `to_timestamp(('x' || translate(left(${col}::text, 13), '-', ''))::bit(48)::bigint / 1000.0)`;

/**
 * History that stays cheap (issue 13): deliveries and delivery_attempts become tables partitioned
 * by month of the delivery's UUIDv7 id (RANGE on deliveries.id and delivery_attempts.delivery_id,
 * same bounds), so retention drops whole partitions and every look-up by delivery id prunes to
 * one. Rows are copied into month partitions from the oldest row's month to two months ahead (no
 * default partition: DETACH … CONCURRENTLY refuses tables that have one); the worker creates the
 * following months (MaintenanceJob.CreateDeliveryPartitions). The copy holds the tables' locks for
 * its duration: run it in a quiet moment on a large history. `down` copies the rows back into the
 * plain tables of LogoutPipeline1795674267230.
 */
export class PartitionedDeliveryHistory1796141498254 implements MigrationInterface {
  name = 'PartitionedDeliveryHistory1796141498254';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const [{ n }]: { n: number }[] = await queryRunner.query(
      `SELECT count(*)::int AS n FROM deliveries WHERE substr(id::text, 15, 1) <> '7'`,
    );
    if (n) throw new Error(`${n} deliveries have an id that is not a UUIDv7; their month is unknown`);
    await queryRunner.query(`LOCK TABLE deliveries, delivery_attempts IN EXCLUSIVE MODE`);
    await queryRunner.query(`ALTER TABLE "delivery_attempts" DROP CONSTRAINT "FK_a9d7e7212c87084249a641ab455"`);
    await this.setAside(queryRunner, 'PK_a6ef225c5c5f0974e503bfb731f', 'PK_41eba4eb5401d72860f7cd9a7ac', true);
    await queryRunner.query(DELIVERIES_TABLE('deliveries', 'PK_a6ef225c5c5f0974e503bfb731f', true));
    await queryRunner.query(ATTEMPTS_TABLE('delivery_attempts', 'PK_6db0387bcb787867f1c03874498', true));
    await queryRunner.query(UUID7_FLOOR);
    await queryRunner.query(CREATE_PARTITIONS);
    await queryRunner.query(
      `SELECT create_delivery_partitions(first, (extract(year FROM age(last, first)) * 12 + extract(month FROM age(last, first)))::int + 3)
         FROM (SELECT date_trunc('month', coalesce(min(t), now()) AT TIME ZONE 'UTC') AS first,
                      date_trunc('month', greatest(max(t), now()) AT TIME ZONE 'UTC') AS last
                 FROM (SELECT ${UUID7_TIME('id')} AS t FROM deliveries_previous) ids) span`,
    );
    await this.copy(queryRunner);
    for (const sql of SHARED) await queryRunner.query(sql);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`LOCK TABLE deliveries, delivery_attempts IN EXCLUSIVE MODE`);
    await queryRunner.query(`ALTER TABLE "delivery_attempts" DROP CONSTRAINT "FK_a9d7e7212c87084249a641ab455"`);
    await this.setAside(queryRunner, 'PK_a6ef225c5c5f0974e503bfb731f', 'PK_6db0387bcb787867f1c03874498', false);
    await queryRunner.query(DELIVERIES_TABLE('deliveries', 'PK_a6ef225c5c5f0974e503bfb731f', false));
    await queryRunner.query(ATTEMPTS_TABLE('delivery_attempts', 'PK_41eba4eb5401d72860f7cd9a7ac', false));
    await this.copy(queryRunner);
    await queryRunner.query(`DROP FUNCTION create_delivery_partitions(timestamptz, int)`);
    await queryRunner.query(`DROP FUNCTION uuid7_floor(timestamptz)`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "deliveries_event_client_sid_key" ON "deliveries" ("event_id", "client_id", "sid")`,
    );
    for (const sql of SHARED) await queryRunner.query(sql);
  }

  /**
   * Renames the current tables to *_previous and frees the names their indexes hold, so the
   * new shape can take them; `fromPlain`: the plain tables (with their unique event index) go.
   */
  private async setAside(queryRunner: QueryRunner, deliveriesPk: string, attemptsPk: string, fromPlain: boolean) {
    const indexes = ['deliveries_open_due_idx', 'deliveries_client_created_idx', 'delivery_attempts_started_at_idx'];
    indexes.push('delivery_attempts_delivery_number_key');
    if (fromPlain) indexes.push('deliveries_event_client_sid_key');
    for (const index of indexes) await queryRunner.query(`DROP INDEX "${index}"`);
    await queryRunner.query(`ALTER TABLE "deliveries" RENAME CONSTRAINT "${deliveriesPk}" TO "deliveries_previous_pkey"`);
    await queryRunner.query(
      `ALTER TABLE "delivery_attempts" RENAME CONSTRAINT "${attemptsPk}" TO "delivery_attempts_previous_pkey"`,
    );
    await queryRunner.query(`ALTER TABLE "deliveries" RENAME TO "deliveries_previous"`);
    await queryRunner.query(`ALTER TABLE "delivery_attempts" RENAME TO "delivery_attempts_previous"`);
  }

  /** Copies the rows set aside into the new tables, then drops the old ones (with their partitions, if any). */
  private async copy(queryRunner: QueryRunner) {
    await queryRunner.query(`INSERT INTO deliveries (${DELIVERY_COLUMNS}) SELECT ${DELIVERY_COLUMNS} FROM deliveries_previous`);
    await queryRunner.query(
      `INSERT INTO delivery_attempts (${ATTEMPT_COLUMNS}) SELECT ${ATTEMPT_COLUMNS} FROM delivery_attempts_previous`,
    );
    await queryRunner.query(`DROP TABLE "delivery_attempts_previous"`);
    await queryRunner.query(`DROP TABLE "deliveries_previous"`);
  }
}

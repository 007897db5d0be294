import { MigrationInterface, QueryRunner } from 'typeorm';

export class LogoutPipeline1795674267230 implements MigrationInterface {
  name = 'LogoutPipeline1795674267230';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "logout_events" (
                "id" uuid NOT NULL,
                "trigger" character varying(30) NOT NULL,
                "sub" character varying(255),
                "sid" character varying(128),
                "ended_sids" text array NOT NULL DEFAULT '{}',
                "initiator_client_id" character varying(100),
                "idempotency_key" character varying(255),
                "request_hash" character varying(64),
                "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_d6576d4e9bc1943e9771dbfa5d1" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "logout_events_idempotency_idx" ON "logout_events" ("initiator_client_id", "idempotency_key")
            WHERE idempotency_key IS NOT NULL
        `);
    await queryRunner.query(`
            CREATE INDEX "logout_events_sub_idx" ON "logout_events" ("sub")
        `);
    await queryRunner.query(`
            CREATE INDEX "logout_events_created_at_idx" ON "logout_events" ("created_at", "id")
        `);
    await queryRunner.query(`
            CREATE TABLE "deliveries" (
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
                CONSTRAINT "PK_a6ef225c5c5f0974e503bfb731f" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "deliveries_open_due_idx" ON "deliveries" ("next_attempt_at")
            WHERE status IN ('pending', 'delivering', 'retrying')
        `);
    await queryRunner.query(`
            CREATE INDEX "deliveries_client_created_idx" ON "deliveries" ("client_id", "created_at")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "deliveries_event_client_sid_key" ON "deliveries" ("event_id", "client_id", "sid")
        `);
    await queryRunner.query(`
            CREATE TABLE "delivery_attempts" (
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
                CONSTRAINT "PK_41eba4eb5401d72860f7cd9a7ac" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "delivery_attempts_started_at_idx" ON "delivery_attempts" ("started_at")
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "delivery_attempts_delivery_number_key" ON "delivery_attempts" ("delivery_id", "number")
        `);
    await queryRunner.query(`
            CREATE TABLE "session_clients" (
                "sid" character varying(128) NOT NULL,
                "client_id" character varying(100) NOT NULL,
                "sub" character varying(255) NOT NULL,
                "first_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                CONSTRAINT "PK_4d503712e3237ac914cecedc21e" PRIMARY KEY ("sid", "client_id")
            )
        `);
    await queryRunner.query(`
            CREATE INDEX "session_clients_sub_idx" ON "session_clients" ("sub")
        `);
    await queryRunner.query(`
            ALTER TABLE "clients"
            ADD "delivery_format" character varying(20) NOT NULL DEFAULT 'logout_token'
        `);
    await queryRunner.query(`
            ALTER TABLE "clients"
            ADD "logout_token_typ" character varying(20) NOT NULL DEFAULT 'logout+jwt'
        `);
    await queryRunner.query(`
            ALTER TABLE "clients"
            ADD "delivery_timeout_ms" integer
        `);
    await queryRunner.query(`
            ALTER TABLE "clients"
            ADD "delivery_max_attempts" integer
        `);
    await queryRunner.query(`
            ALTER TABLE "clients"
            ADD "webhook_secret_enc" text
        `);
    await queryRunner.query(`
            ALTER TABLE "clients"
            ADD "endpoint_status" character varying(20) NOT NULL DEFAULT 'active'
        `);
    await queryRunner.query(`
            ALTER TABLE "clients"
            ADD "endpoint_status_reason" text
        `);
    await queryRunner.query(`
            ALTER TABLE "clients"
            ADD "endpoint_status_changed_at" TIMESTAMP WITH TIME ZONE
        `);
    await queryRunner.query(`
            ALTER TABLE "deliveries"
            ADD CONSTRAINT "FK_6a9b04f909fedcc6438b48b90c1" FOREIGN KEY ("event_id") REFERENCES "logout_events"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "deliveries"
            ADD CONSTRAINT "FK_40f921e26667637650ad149457d" FOREIGN KEY ("client_id") REFERENCES "clients"("client_id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "delivery_attempts"
            ADD CONSTRAINT "FK_a9d7e7212c87084249a641ab455" FOREIGN KEY ("delivery_id") REFERENCES "deliveries"("id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
    await queryRunner.query(`
            ALTER TABLE "session_clients"
            ADD CONSTRAINT "FK_9dbd0c3f622a4043241ca4b4c14" FOREIGN KEY ("client_id") REFERENCES "clients"("client_id") ON DELETE CASCADE ON UPDATE NO ACTION
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "session_clients" DROP CONSTRAINT "FK_9dbd0c3f622a4043241ca4b4c14"
        `);
    await queryRunner.query(`
            ALTER TABLE "delivery_attempts" DROP CONSTRAINT "FK_a9d7e7212c87084249a641ab455"
        `);
    await queryRunner.query(`
            ALTER TABLE "deliveries" DROP CONSTRAINT "FK_40f921e26667637650ad149457d"
        `);
    await queryRunner.query(`
            ALTER TABLE "deliveries" DROP CONSTRAINT "FK_6a9b04f909fedcc6438b48b90c1"
        `);
    await queryRunner.query(`
            ALTER TABLE "clients" DROP COLUMN "endpoint_status_changed_at"
        `);
    await queryRunner.query(`
            ALTER TABLE "clients" DROP COLUMN "endpoint_status_reason"
        `);
    await queryRunner.query(`
            ALTER TABLE "clients" DROP COLUMN "endpoint_status"
        `);
    await queryRunner.query(`
            ALTER TABLE "clients" DROP COLUMN "webhook_secret_enc"
        `);
    await queryRunner.query(`
            ALTER TABLE "clients" DROP COLUMN "delivery_max_attempts"
        `);
    await queryRunner.query(`
            ALTER TABLE "clients" DROP COLUMN "delivery_timeout_ms"
        `);
    await queryRunner.query(`
            ALTER TABLE "clients" DROP COLUMN "logout_token_typ"
        `);
    await queryRunner.query(`
            ALTER TABLE "clients" DROP COLUMN "delivery_format"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."session_clients_sub_idx"
        `);
    await queryRunner.query(`
            DROP TABLE "session_clients"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."delivery_attempts_delivery_number_key"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."delivery_attempts_started_at_idx"
        `);
    await queryRunner.query(`
            DROP TABLE "delivery_attempts"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."deliveries_event_client_sid_key"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."deliveries_client_created_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."deliveries_open_due_idx"
        `);
    await queryRunner.query(`
            DROP TABLE "deliveries"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."logout_events_created_at_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."logout_events_sub_idx"
        `);
    await queryRunner.query(`
            DROP INDEX "public"."logout_events_idempotency_idx"
        `);
    await queryRunner.query(`
            DROP TABLE "logout_events"
        `);
  }
}

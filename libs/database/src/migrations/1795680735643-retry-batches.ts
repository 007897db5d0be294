import { MigrationInterface, QueryRunner } from 'typeorm';

export class RetryBatches1795680735643 implements MigrationInterface {
  name = 'RetryBatches1795680735643';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            CREATE TABLE "retry_batches" (
                "id" uuid NOT NULL,
                "client_key" character varying(100) NOT NULL,
                "filter" jsonb NOT NULL,
                "delivery_ids" uuid array NOT NULL,
                "state" character varying(20) NOT NULL,
                "total" integer NOT NULL,
                "done" integer NOT NULL DEFAULT '0',
                "succeeded" integer NOT NULL DEFAULT '0',
                "failed" integer NOT NULL DEFAULT '0',
                "requested_by" character varying(100) NOT NULL,
                "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
                "finished_at" TIMESTAMP WITH TIME ZONE,
                CONSTRAINT "PK_63bb283fa59d796e711bc57181b" PRIMARY KEY ("id")
            )
        `);
    await queryRunner.query(`
            CREATE UNIQUE INDEX "retry_batches_one_active_per_client" ON "retry_batches" ("client_key")
            WHERE state IN ('queued', 'running')
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            DROP INDEX "public"."retry_batches_one_active_per_client"
        `);
    await queryRunner.query(`
            DROP TABLE "retry_batches"
        `);
  }
}

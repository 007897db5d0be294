import { MigrationInterface, QueryRunner } from 'typeorm';

export class WebhookSecretRotation1795681120215 implements MigrationInterface {
  name = 'WebhookSecretRotation1795681120215';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "clients"
            ADD "webhook_secret_previous_enc" text
        `);
    await queryRunner.query(`
            ALTER TABLE "clients"
            ADD "webhook_secret_previous_until" TIMESTAMP WITH TIME ZONE
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "clients" DROP COLUMN "webhook_secret_previous_until"
        `);
    await queryRunner.query(`
            ALTER TABLE "clients" DROP COLUMN "webhook_secret_previous_enc"
        `);
  }
}

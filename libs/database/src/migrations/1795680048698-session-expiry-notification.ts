import { MigrationInterface, QueryRunner } from 'typeorm';

export class SessionExpiryNotification1795680048698 implements MigrationInterface {
  name = 'SessionExpiryNotification1795680048698';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "clients"
            ADD "notify_session_expired" boolean NOT NULL DEFAULT true
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "clients" DROP COLUMN "notify_session_expired"
        `);
  }
}

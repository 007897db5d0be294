import { MigrationInterface, QueryRunner } from 'typeorm';

export class LogoutTokenSubject1795682200001 implements MigrationInterface {
  name = 'LogoutTokenSubject1795682200001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "clients"
            ADD "logout_token_subject" character varying(20) NOT NULL DEFAULT 'sid_and_sub'
        `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
            ALTER TABLE "clients" DROP COLUMN "logout_token_subject"
        `);
  }
}

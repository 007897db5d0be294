import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1795671533262 implements MigrationInterface {
  name = 'InitialSchema1795671533262';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "clients" ("client_id" character varying(100) NOT NULL, "secret_hash" character varying(200), "name" character varying(200) NOT NULL, "redirect_uris" text array NOT NULL DEFAULT '{}', "post_logout_redirect_uris" text array NOT NULL DEFAULT '{}', "web_origins" text array NOT NULL DEFAULT '{}', "backchannel_logout_uri" text, "backchannel_logout_session_required" boolean NOT NULL DEFAULT true, "frontchannel_logout_uri" text, "grant_types" text array NOT NULL, "token_endpoint_auth_method" character varying(40) NOT NULL, "server_scopes" text array NOT NULL DEFAULT '{}', "id_token_signed_response_alg" character varying(10) NOT NULL DEFAULT 'RS256', "status" character varying(20) NOT NULL DEFAULT 'active', "status_reason" text, "secret_rotated_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_49e91f1e368e3f760789e7764aa" PRIMARY KEY ("client_id"))`,
    );
    await queryRunner.query(`CREATE INDEX "clients_created_at_idx" ON "clients" ("created_at", "client_id") `);
    await queryRunner.query(
      `CREATE TABLE "oidc_payloads" ("model" character varying(64) NOT NULL, "id" character varying(255) NOT NULL, "payload" jsonb NOT NULL, "grant_id" character varying(255), "user_code" character varying(255), "uid" character varying(255), "expires_at" TIMESTAMP WITH TIME ZONE, "consumed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_d9486974390cddb7406abddf347" PRIMARY KEY ("model", "id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "oidc_payloads_expires_idx" ON "oidc_payloads" ("expires_at") WHERE expires_at IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "oidc_payloads_user_code_idx" ON "oidc_payloads" ("user_code") WHERE user_code IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX "oidc_payloads_uid_idx" ON "oidc_payloads" ("uid") WHERE uid IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "oidc_payloads_grant_idx" ON "oidc_payloads" ("grant_id") WHERE grant_id IS NOT NULL`);
    await queryRunner.query(
      `CREATE TABLE "signing_keys" ("kid" character varying(64) NOT NULL, "alg" character varying(10) NOT NULL, "public_jwk" jsonb NOT NULL, "private_jwk_enc" text NOT NULL, "state" character varying(10) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "retired_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_13362ac3e792c69417e1a53d355" PRIMARY KEY ("kid"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "users" ("id" uuid NOT NULL, "email" character varying(320) NOT NULL, "name" character varying(200), "password_hash" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_97672ac88f789774dd47f7c8be3" UNIQUE ("email"), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "users"`);
    await queryRunner.query(`DROP TABLE "signing_keys"`);
    await queryRunner.query(`DROP INDEX "public"."oidc_payloads_grant_idx"`);
    await queryRunner.query(`DROP INDEX "public"."oidc_payloads_uid_idx"`);
    await queryRunner.query(`DROP INDEX "public"."oidc_payloads_user_code_idx"`);
    await queryRunner.query(`DROP INDEX "public"."oidc_payloads_expires_idx"`);
    await queryRunner.query(`DROP TABLE "oidc_payloads"`);
    await queryRunner.query(`DROP INDEX "public"."clients_created_at_idx"`);
    await queryRunner.query(`DROP TABLE "clients"`);
  }
}

import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { SigningKeyEntity } from '@slo/database';
import { generateKeyPairSync, randomUUID, KeyObject } from 'node:crypto';
import { DataSource } from 'typeorm';
import { openPrivateKey, sealPrivateKey } from './key-envelope';

export const SIGNING_ALGS = ['RS256', 'ES256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** A private JWK with its metadata, as oidc-provider's `jwks` option expects. */
export type PrivateJwk = Record<string, unknown> & { kid: string; alg: string; use: 'sig' };

/** Advisory-lock key so that identity instances starting together create one key per algorithm. */
const KEY_CREATION_LOCK = 0x510_4b45;

function generate(alg: SigningAlg): { publicKey: KeyObject; privateKey: KeyObject } {
  return alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

@Injectable()
export class SigningKeysService {
  private readonly logger = new Logger(SigningKeysService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Creates an active key for every supported algorithm that lacks one. Safe to run from many instances at once. */
  async ensureActiveKeys(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_CREATION_LOCK]);
      const repo = tx.getRepository(SigningKeyEntity);
      for (const alg of SIGNING_ALGS) {
        if (await repo.existsBy({ alg, state: 'active' })) continue;
        const { publicKey, privateKey } = generate(alg);
        const kid = randomUUID();
        const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
        const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
        await repo.insert({
          kid,
          alg,
          publicJwk,
          privateJwkEnc: sealPrivateKey(this.config.identity.keyEncryptionKey, kid, JSON.stringify(privateJwk)),
          state: 'active',
        });
        this.logger.log(`created ${alg} signing key ${kid}`);
      }
    });
  }

  /** Private JWKs of keys that sign (active first) or are still published (next, retired within grace). */
  async privateJwks(): Promise<PrivateJwk[]> {
    const rows = await this.db.getRepository(SigningKeyEntity).find({ order: { createdAt: 'DESC' } });
    const order = { active: 0, next: 1, retired: 2 } as const;
    return rows
      .sort((a, b) => order[a.state] - order[b.state])
      .map((row) => JSON.parse(openPrivateKey(this.config.identity.keyEncryptionKey, row.kid, row.privateJwkEnc)) as PrivateJwk);
  }
}

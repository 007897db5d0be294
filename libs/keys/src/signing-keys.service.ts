import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { SigningKeyEntity } from '@slo/database';
import { generateKeyPairSync, randomUUID, KeyObject } from 'node:crypto';
import { DataSource } from 'typeorm';
import { openPrivateKey, sealPrivateKey } from './key-envelope';

const SIGNING_ALGS = ['RS256', 'ES256'] as const;
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
        await repo.save(repo.create(this.newKey(alg, 'active')));
      }
    });
  }

  /**
   * Private JWKs of keys that sign (active, first) or are only published for verification (next,
   * and retired within their grace period); those carry `key_ops: ['verify']`, so the provider
   * never signs with them.
   */
  async privateJwks(): Promise<PrivateJwk[]> {
    const rows = await this.db.getRepository(SigningKeyEntity).find({ order: { createdAt: 'DESC' } });
    const order = { active: 0, next: 1, retired: 2 } as const;
    return rows
      .sort((a, b) => order[a.state] - order[b.state])
      .map((row) => {
        const jwk = JSON.parse(openPrivateKey(this.config.identity.keyEncryptionKey, row.kid, row.privateJwkEnc)) as PrivateJwk;
        return row.state === 'active' ? jwk : { ...jwk, key_ops: ['verify'] };
      });
  }

  /** Which keys exist in which state: changes whenever a rotation step happens. */
  async fingerprint(): Promise<string> {
    const rows: { kid: string; state: string }[] = await this.db.query('SELECT kid, state FROM signing_keys ORDER BY kid');
    return rows.map((r) => `${r.kid}:${r.state}`).join(',');
  }

  /**
   * Starts a rotation: a `next` key per algorithm, published for verification at once and used
   * for signing only after `promote` (so relying parties have fetched it before they see it).
   * Idempotent while a rotation is pending.
   */
  async rotate(): Promise<SigningKeyEntity[]> {
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_CREATION_LOCK]);
      const repo = tx.getRepository(SigningKeyEntity);
      for (const alg of SIGNING_ALGS) {
        if (await repo.existsBy({ alg, state: 'next' })) continue;
        await repo.save(repo.create(this.newKey(alg, 'next')));
      }
    });
    return this.db.getRepository(SigningKeyEntity).find({ where: { state: 'next' }, order: { alg: 'ASC' } });
  }

  /**
   * Advances rotations: `next` keys published for `publishDelaySeconds` become active (the active
   * key of that algorithm retires), and retired keys older than `graceSeconds` are removed from
   * the JWKS. Returns true when something changed.
   */
  async promote(publishDelaySeconds: number, graceSeconds: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_CREATION_LOCK]);
      let changed = false;
      const due: { kid: string; alg: string }[] = await tx.query(
        `SELECT kid, alg FROM signing_keys WHERE state = 'next' AND created_at <= now() - make_interval(secs => $1)`,
        [publishDelaySeconds],
      );
      for (const key of due) {
        await tx.query(`UPDATE signing_keys SET state = 'retired', retired_at = now() WHERE alg = $1 AND state = 'active'`, [
          key.alg,
        ]);
        await tx.query(`UPDATE signing_keys SET state = 'active' WHERE kid = $1`, [key.kid]);
        this.logger.log(`signing key ${key.kid} (${key.alg}) is now active`);
        changed = true;
      }
      const [, removed] = (await tx.query(
        `DELETE FROM signing_keys WHERE state = 'retired' AND retired_at <= now() - make_interval(secs => $1)`,
        [graceSeconds],
      )) as [unknown, number];
      return changed || removed > 0;
    });
  }

  private newKey(alg: SigningAlg, state: 'next' | 'active'): Partial<SigningKeyEntity> {
    const { publicKey, privateKey } = generate(alg);
    const kid = randomUUID();
    const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
    const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
    this.logger.log(`created ${alg} signing key ${kid} (${state})`);
    return {
      kid,
      alg,
      publicJwk,
      privateJwkEnc: sealPrivateKey(this.config.identity.keyEncryptionKey, kid, JSON.stringify(privateJwk)),
      state,
    };
  }
}

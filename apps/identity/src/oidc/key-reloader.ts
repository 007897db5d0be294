import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { SigningKeysService } from '@slo/keys';
import type Provider from 'oidc-provider';
// The provider's own keystore initialiser (the one its constructor runs): re-running it swaps the
// signing keys and the published JWKS of a running provider.
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js';
import { OIDC_PROVIDER } from './oidc-provider.token';

/**
 * Key rotation reaches every identity instance: every KEY_RELOAD_SECONDS the signing-key table is
 * checked, and when it changed (a key published, activated or retired) the provider's keystore
 * is rebuilt from it. Keys that are only published carry `key_ops: ['verify']` and never sign.
 */
@Injectable()
export class KeyReloader implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(KeyReloader.name);
  private timer?: NodeJS.Timeout;
  private current = '';

  constructor(
    @Inject(OIDC_PROVIDER) private readonly provider: Provider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: SigningKeysService,
  ) {}

  async onModuleInit(): Promise<void> {
    this.current = await this.keys.fingerprint();
    this.timer = setInterval(() => {
      this.reload().catch((err: unknown) => this.logger.warn({ err }, 'could not reload signing keys'));
    }, this.config.keys.reloadSeconds * 1000);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async reload(): Promise<boolean> {
    const fingerprint = await this.keys.fingerprint();
    if (fingerprint === this.current) return false;
    (initializeKeystore as (this: Provider, jwks: unknown) => void).call(this.provider, { keys: await this.keys.privateJwks() });
    this.current = fingerprint;
    this.logger.log('signing keys reloaded');
    return true;
  }
}

import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** One servable file of the browser SDK. */
interface SdkAsset {
  body: Buffer;
  contentType: string;
  etag: string;
  /** True for the content-hashed name, which never changes meaning and may be cached forever. */
  immutable: boolean;
}

interface Manifest {
  version: string;
  files: Record<string, { hashed: string; integrity: string; contentType: string }>;
}

/**
 * The built SDK (scripts/build-sdk.ts output), read once at boot: identity refuses to start
 * without it rather than serve a page that cannot load its script.
 */
@Injectable()
export class SdkAssets implements OnModuleInit {
  private readonly assets = new Map<string, SdkAsset>();
  private manifest!: Manifest;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async onModuleInit(): Promise<void> {
    const dir = resolve(this.config.identity.sdkDir);
    let manifest: Manifest;
    try {
      manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    } catch (err) {
      throw new Error(
        `the browser SDK is not built in ${dir} (SDK_ASSETS_DIR): ${(err as Error).message}; run npm run build:sdk`,
      );
    }
    for (const [name, file] of Object.entries(manifest.files)) {
      const body = await readFile(join(dir, name));
      // The hashed name already names the content.
      const etag = `"${file.hashed}"`;
      this.assets.set(name, { body, contentType: file.contentType, etag, immutable: false });
      this.assets.set(file.hashed, { body, contentType: file.contentType, etag, immutable: true });
    }
    this.manifest = manifest;
  }

  get version(): string {
    return this.manifest.version;
  }

  find(name: string): SdkAsset | undefined {
    return this.assets.get(name);
  }

  /** What `/sdk/manifest.json` answers: the version and, per file, its pinned URL and SRI hash. */
  describe(): { version: string; files: Record<string, { url: string; pinned_url: string; integrity: string }> } {
    const base = `${this.config.identity.issuer.replace(/\/+$/, '')}/sdk`;
    const files: Record<string, { url: string; pinned_url: string; integrity: string }> = {};
    for (const [name, f] of Object.entries(this.manifest.files)) {
      files[name] = { url: `${base}/${name}`, pinned_url: `${base}/${f.hashed}`, integrity: f.integrity };
    }
    return { version: this.manifest.version, files };
  }
}

import { Controller, Get, Header, Param, Req, Res } from '@nestjs/common';
import { AppError, ErrorCode } from '@slo/errors';
import type { Request, Response } from 'express';
import { SdkAssets } from './sdk-assets';

/** Short enough that a fixed SDK reaches every page within minutes. */
const LATEST_MAX_AGE_SECONDS = 300;

/**
 * The browser SDK: `/sdk/spid.js` (script tag, defines `window.SPiD`), `/sdk/spid.mjs`
 * (ES module), `/sdk/spid.d.ts` (types), each also under a content-hashed name that is cached
 * forever (`/sdk/manifest.json` lists them with their SRI integrity). Public, so any origin may
 * load them (module scripts need CORS).
 */
@Controller('sdk')
export class SdkController {
  constructor(private readonly assets: SdkAssets) {}

  @Get('manifest.json')
  @Header('Cache-Control', `public, max-age=${LATEST_MAX_AGE_SECONDS}`)
  @Header('Access-Control-Allow-Origin', '*')
  manifest() {
    return this.assets.describe();
  }

  @Get(':file')
  file(@Param('file') name: string, @Req() req: Request, @Res() res: Response): void {
    const asset = this.assets.find(name);
    if (!asset) throw new AppError(ErrorCode.NotFound, `no SDK file ${name}; see /sdk/manifest.json`);
    res.setHeader('Content-Type', asset.contentType);
    res.setHeader('ETag', asset.etag);
    res.setHeader(
      'Cache-Control',
      asset.immutable ? 'public, max-age=31536000, immutable' : `public, max-age=${LATEST_MAX_AGE_SECONDS}`,
    );
    res.setHeader('X-SPiD-SDK-Version', this.assets.version);
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Access-Control-Expose-Headers', 'ETag, X-SPiD-SDK-Version');
    // Weak comparison (RFC 9110): a compressing CDN turns the tag into W/"…".
    const tags = req.headers['if-none-match']?.split(/\s*,\s*/).map((t) => t.replace(/^W\//, ''));
    if (tags?.includes(asset.etag) || tags?.includes('*')) {
      res.status(304).end();
      return;
    }
    res.setHeader('Content-Length', asset.body.length);
    res.status(200).end(req.method === 'HEAD' ? undefined : asset.body);
  }
}

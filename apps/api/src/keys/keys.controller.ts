import { Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { SigningKeyEntity } from '@slo/database';
import { SigningKeysService } from '@slo/keys';
import { DataSource } from 'typeorm';
import { RequireScopes } from '../auth/principal';

const view = (k: SigningKeyEntity) => ({
  kid: k.kid,
  alg: k.alg,
  state: k.state,
  created_at: k.createdAt.toISOString(),
  retired_at: k.retiredAt?.toISOString() ?? null,
});

/** The identity's signing keys (scope `admin`): list and rotate. Private parts never leave the database. */
@ApiTags('keys')
@ApiBearerAuth()
@RequireScopes('admin')
@Controller('v1/keys')
export class KeysController {
  constructor(
    private readonly keys: SigningKeysService,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async list() {
    const rows = await this.db.getRepository(SigningKeyEntity).find({ order: { createdAt: 'DESC' } });
    return { data: rows.map(view) };
  }

  @Post('rotate')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Rotate: new keys are published in the JWKS at once and sign after KEY_PUBLISH_DELAY_SECONDS; the old ones stay published for KEY_RETIRED_GRACE_SECONDS',
  })
  async rotate() {
    const next = await this.keys.rotate();
    const created = Math.max(...next.map((k) => k.createdAt.getTime()));
    return {
      next: next.map(view),
      activates_after: new Date(created + this.config.keys.publishDelaySeconds * 1000).toISOString(),
    };
  }
}

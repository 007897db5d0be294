import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { LogoutService } from './logout.service';

const BATCH = 100;
const MAX_BATCHES_PER_RUN = 20;

/**
 * Ends identity sessions that reached their expiry as `session_expired` logouts, so the clients
 * that asked for it (`notify_session_expired`) are told, as for any other logout. Sessions that
 * never signed anybody in are simply deleted. (The purge of expired provider state leaves
 * sessions to this sweep.)
 */
@Injectable()
export class SessionExpirySweep {
  private readonly logger = new Logger(SessionExpirySweep.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly logouts: LogoutService,
  ) {}

  /** One pass; returns how many signed-in sessions were ended. */
  async sweep(): Promise<number> {
    let ended = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
      const rows: { uid: string; sub: string | null }[] = await this.db.query(
        `SELECT uid, payload->>'accountId' AS sub FROM oidc_payloads
          WHERE model = 'Session' AND expires_at <= now() ORDER BY expires_at LIMIT $1`,
        [BATCH],
      );
      for (const row of rows) {
        if (row.sub) {
          await this.logouts.record({ trigger: 'session_expired', sid: row.uid, sub: row.sub });
          ended++;
        } else {
          await this.db.query(`DELETE FROM oidc_payloads WHERE model = 'Session' AND uid = $1 AND expires_at <= now()`, [
            row.uid,
          ]);
        }
      }
      if (rows.length < BATCH) break;
    }
    if (ended) this.logger.log(`ended ${ended} expired sessions`);
    return ended;
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { deleteExpiredSession, expiredSessions } from '@slo/sessions';
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
      const rows = await expiredSessions(this.db, BATCH);
      for (const row of rows) {
        if (row.sub) {
          await this.logouts.record({ trigger: 'session_expired', sid: row.uid, sub: row.sub });
          ended++;
        } else {
          await deleteExpiredSession(this.db, row.uid);
        }
      }
      if (rows.length < BATCH) break;
    }
    if (ended) this.logger.log(`ended ${ended} expired sessions`);
    return ended;
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Retention of the delivery record. */
@Injectable()
export class DeliveryRetention {
  private readonly logger = new Logger(DeliveryRetention.name);

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Retention: deletes delivered deliveries (their attempts go with them) older than `days`, and
   * events left without deliveries, in small batches so no lock is held for long.
   */
  async pruneDelivered(days: number, batch = 1000): Promise<number> {
    let total = 0;
    for (;;) {
      const [, deleted] = (await this.db.query(
        `DELETE FROM deliveries WHERE id IN (
           SELECT id FROM deliveries WHERE status = 'delivered' AND delivered_at < now() - make_interval(days => $1) LIMIT $2)`,
        [days, batch],
      )) as [unknown, number];
      total += deleted;
      if (deleted < batch) break;
    }
    for (;;) {
      const [, deleted] = (await this.db.query(
        `DELETE FROM logout_events WHERE id IN (
           SELECT e.id FROM logout_events e WHERE e.created_at < now() - make_interval(days => $1)
              AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) LIMIT $2)`,
        [days, batch],
      )) as [unknown, number];
      if (deleted < batch) break;
    }
    if (total) this.logger.log(`pruned ${total} delivered deliveries older than ${days} days`);
    return total;
  }
}

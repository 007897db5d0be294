import { Processor, WorkerHost } from '@nestjs/bullmq';
import { RETRY_BATCHES_PER_WORKER, RetryBatchService } from '@slo/delivery';
import { QueueName, RetryBatchJob, RetryBatchJobData } from '@slo/queue';
import { Job } from 'bullmq';

/** Bulk retry batches beside the delivery queue; batches of different clients run side by side. */
@Processor(QueueName.RetryBatch, { concurrency: RETRY_BATCHES_PER_WORKER })
export class RetryBatchProcessor extends WorkerHost {
  constructor(private readonly batches: RetryBatchService) {
    super();
  }

  async process(job: Job<RetryBatchJobData>): Promise<void> {
    if (job.name !== RetryBatchJob.Run) throw new Error(`no handler for retry batch job ${job.name}`);
    await this.batches.run(job.data.batchId);
  }
}

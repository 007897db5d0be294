import { Processor, WorkerHost } from '@nestjs/bullmq';
import { RetryBatchService } from '@slo/delivery';
import { QueueName, RetryBatchJob, RetryBatchJobData } from '@slo/queue';
import { Job } from 'bullmq';

/** Bulk retry batches, one at a time per worker process, beside the delivery queue. */
@Processor(QueueName.RetryBatch, { concurrency: 1 })
export class RetryBatchProcessor extends WorkerHost {
  constructor(private readonly batches: RetryBatchService) {
    super();
  }

  async process(job: Job<RetryBatchJobData>): Promise<void> {
    if (job.name !== RetryBatchJob.Run) throw new Error(`no handler for retry batch job ${job.name}`);
    await this.batches.run(job.data.batchId);
  }
}

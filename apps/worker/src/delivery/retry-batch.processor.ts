import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { RETRY_BATCHES_PER_WORKER, RetryBatchService } from '@slo/delivery';
import { QueueName, RetryBatchJob, RetryBatchJobData } from '@slo/queue';
import { Logger } from '@nestjs/common';
import { Job } from 'bullmq';
import { reportWorkerError } from './delivery.processor';

/** Bulk retry batches beside the delivery queue; batches of different clients run side by side. */
@Processor(QueueName.RetryBatch, { concurrency: RETRY_BATCHES_PER_WORKER })
export class RetryBatchProcessor extends WorkerHost {
  private readonly logger = new Logger(RetryBatchProcessor.name);

  constructor(private readonly batches: RetryBatchService) {
    super();
  }

  async process(job: Job<RetryBatchJobData>): Promise<void> {
    if (job.name !== RetryBatchJob.Run) throw new Error(`no handler for retry batch job ${job.name}`);
    await this.batches.run(job.data.batchId);
  }

  @OnWorkerEvent('error')
  onError(err: Error): void {
    reportWorkerError(this.logger, err);
  }
}

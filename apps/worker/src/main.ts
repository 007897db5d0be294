import 'reflect-metadata';
import { runApp } from '@slo/observability';
import { createWorkerApp } from './worker.app';

void runApp(
  'worker',
  createWorkerApp,
  (c) => c.worker.port,
  (c) => `http://localhost:${c.worker.port}/health/ready`,
);

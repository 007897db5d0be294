import 'reflect-metadata';
import { runApp } from '@slo/app-shell';
import { createWorkerApp } from './worker.app';

void runApp(
  'worker',
  createWorkerApp,
  (c) => c.worker.port,
  (c) => `http://localhost:${c.worker.port}/health/ready`,
);

import 'reflect-metadata';
import { runApp } from '@slo/observability';
import { createApiApp } from './api.app';

void runApp(
  'api',
  createApiApp,
  (c) => c.api.port,
  (c) => c.api.publicUrl,
);

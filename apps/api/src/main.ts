import 'reflect-metadata';
import { runApp } from '@slo/app-shell';
import { createApiApp } from './api.app';

void runApp(
  'api',
  createApiApp,
  (c) => c.api.port,
  (c) => c.api.publicUrl,
);

import 'reflect-metadata';
import { runApp } from '@slo/app-shell';
import { createIdentityApp } from './identity.app';

void runApp(
  'identity',
  createIdentityApp,
  (c) => c.identity.port,
  (c) => c.identity.issuer,
);

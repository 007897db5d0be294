// Prints .env.example from the config schema, so the two never disagree: npm run env:example
import { ENV_VARS } from '../libs/config/src/config';

type Spec = { description: string; default?: string | ((env: Record<string, string>) => string | undefined) };

const lines = [
  '# Every variable the SLO Coordinator reads (generated from libs/config: npm run env:example > .env.example).',
  '# Unset or empty means the default shown. Commented-out values are local-development defaults only:',
  '# with NODE_ENV=production they have no default and must be set.',
  '',
];
for (const [name, spec] of Object.entries(ENV_VARS) as [string, Spec][]) {
  lines.push(`# ${spec.description}`);
  if (typeof spec.default === 'function') lines.push(`# ${name}=${spec.default({ NODE_ENV: 'development' }) ?? ''}`);
  else lines.push(`${name}=${spec.default ?? ''}`);
  lines.push('');
}
process.stdout.write(lines.join('\n'));

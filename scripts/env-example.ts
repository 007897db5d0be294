// Prints .env.example from the settings tables, so the two never disagree: npm run env:example
import { defaultOf, type Setting } from '../libs/config/src/setting';
import { SETTINGS } from '../libs/config/src/table';

const all: readonly Setting[] = SETTINGS;
const lines = [
  '# Every variable the SLO Coordinator reads (generated from libs/config: npm run env:example > .env.example).',
  '# Unset or empty means the default shown. Commented-out values are local-development defaults only:',
  '# with NODE_ENV=production they have no default and must be set.',
  '',
];
for (const s of all) {
  lines.push(`# ${s.description}`);
  if (s.devDefault !== undefined || s.defaultsTo !== undefined) {
    lines.push(`# ${s.env}=${defaultOf(s, { NODE_ENV: 'development' }, all) ?? ''}`);
  } else lines.push(`${s.env}=${s.default ?? ''}`);
  lines.push('');
}
process.stdout.write(lines.join('\n'));

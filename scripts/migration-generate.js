#!/usr/bin/env node
// Generates a migration from the entity/schema difference and registers it in migrations/index.ts.
// Usage: npm run migration:generate -- add-delivery-table
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const name = process.argv[2];
if (!name || !/^[a-z0-9-]+$/.test(name)) {
  console.error('usage: npm run migration:generate -- <kebab-case-name>');
  process.exit(2);
}
const dir = path.join(__dirname, '..', 'libs', 'database', 'src', 'migrations');
const className = name.replace(/(^|-)([a-z0-9])/g, (_, __, c) => c.toUpperCase());
const before = new Set(fs.readdirSync(dir));
execFileSync('npm', ['run', '--silent', 'typeorm', '--', 'migration:generate', '--pretty', path.join(dir, className)], {
  stdio: 'inherit',
});
const created = fs.readdirSync(dir).find((f) => !before.has(f));
if (!created) process.exit(0);
const stamp = created.split('-')[0];
const file = `${stamp}-${name}.ts`;
const cls = `${className}${stamp}`;
fs.renameSync(path.join(dir, created), path.join(dir, file));
const index = path.join(dir, 'index.ts');
let src = fs.readFileSync(index, 'utf8');
src = src.replace(
  /\nexport const MIGRATIONS = \[/,
  `import { ${cls} } from './${file.replace(/\.ts$/, '')}';\n\nexport const MIGRATIONS = [`,
);
// Works for the one-line and the prettier-formatted (one per line, trailing comma) array.
src = src.replace(/,?\s*\];\s*$/, `,\n  ${cls},\n];\n`);
fs.writeFileSync(index, src);
console.log(`registered ${cls} in migrations/index.ts`);

import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit } from '@slo/config';
import { describeStartupError } from '@slo/app-shell';
import { AppError } from '@slo/errors';
import { parseArgs } from 'node:util';
import { CliModule } from './cli.module';
import { COMMANDS } from './commands';
import { INFRA_COMMANDS } from './infra-commands';

function usage(): string {
  return ['usage: npm run cli -- <command> [options]', '', 'commands:']
    .concat(Object.entries(COMMANDS).map(([, c]) => `  ${c.usage.padEnd(58)} ${c.summary}`))
    .concat(Object.entries(INFRA_COMMANDS).map(([name, c]) => `  ${name.padEnd(58)} ${c.summary}`))
    .join('\n');
}

async function main(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  const infra = name ? INFRA_COMMANDS[name] : undefined;
  if (infra) {
    const config = loadConfigOrExit('cli');
    try {
      return await infra.run(config, (line) => process.stdout.write(`${line}\n`));
    } catch (err) {
      process.stderr.write(`${name}: ${describeStartupError(err, config)}\n`);
      return 1;
    }
  }
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`${name ? `unknown command ${name}\n` : ''}${usage()}\n`);
    return 2;
  }
  let args: Record<string, string | undefined>;
  try {
    args = parseArgs({
      args: rest,
      options: {
        'client-id': { type: 'string' },
        name: { type: 'string' },
        email: { type: 'string' },
        password: { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\nusage: npm run cli -- ${command.usage}\n`);
    return 2;
  }
  const config = loadConfigOrExit('cli');
  let ctx;
  try {
    ctx = await NestFactory.createApplicationContext(CliModule.with(config), { logger: false, abortOnError: false });
  } catch (err) {
    process.stderr.write(`cli: ${describeStartupError(err, config)}\n`);
    return 1;
  }
  try {
    await command.run(ctx, config, args, (line) => process.stdout.write(`${line}\n`));
    return 0;
  } catch (err) {
    if (err instanceof AppError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`${name}: ${describeStartupError(err, config)}\n`);
    return 1;
  } finally {
    await ctx.close();
  }
}

void main().then((code) => process.exit(code));

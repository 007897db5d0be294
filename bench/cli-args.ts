/** Command-line pieces the benches share: `--name=value` arguments and repeatable `--env=NAME=value`. */

/** A bad command line: printed without a stack. */
export class UsageError extends Error {}

/** `--name=value` → [name, value]; anything else is a usage error (with the usage text). */
export function nameValue(arg: string, usage: string): [string, string] {
  const m = /^--([a-z0-9-]+)=(.*)$/.exec(arg);
  if (!m) throw new UsageError(`unrecognised argument ${arg}\n${usage}`);
  return [m[1], m[2]];
}

/** One `--env=NAME=value` setting into `env`. */
export function addEnv(env: Record<string, string>, value: string): void {
  const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(value);
  if (!m) throw new UsageError('--env takes NAME=value');
  env[m[1]] = m[2];
}

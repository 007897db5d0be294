import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/**
 * What one cell set up, undone in reverse order, once, whoever asks first (the cell's end, an
 * error, or an interrupt) and whoever waits. A failing step is logged and the others still run.
 */
export class Cleanups {
  private readonly steps: { what: string; fn: () => Promise<unknown> }[] = [];
  private running: Promise<void> | null = null;

  constructor(private readonly log: (msg: string) => void) {}

  add(what: string, fn: () => Promise<unknown>): void {
    this.steps.push({ what, fn });
  }

  run(): Promise<void> {
    return (this.running ??= (async () => {
      for (const step of this.steps.splice(0).reverse()) {
        await step.fn().catch((err: unknown) => this.log(`cleanup (${step.what}) failed: ${String(err)}`));
      }
      this.running = null;
    })());
  }
}

/** The cleanups of the cell now running, for SIGINT/SIGTERM. */
let active: Cleanups | null = null;
export const setActiveCleanups = (c: Cleanups | null) => (active = c);
export const runActiveCleanups = () => active?.run() ?? Promise.resolve();

/** SIGTERM, SIGKILL after `graceMs`; resolves once the process exited. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exit;
  clearTimeout(timer);
}

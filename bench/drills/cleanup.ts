/**
 * One stack of cleanup steps for the whole run: each drill pushes what it started (processes,
 * private servers, databases, Redis keys) and unwinds to where it began; an error or an interrupt
 * unwinds everything. Steps with a synchronous form also run from the process's `exit` event, so
 * even an unexpected exit leaves no child process or private server behind.
 */
interface Step {
  name: string;
  run: () => Promise<unknown>;
  sync?: () => void;
}

const steps: Step[] = [];
/** Longest one step may take before the next one runs. */
const STEP_TIMEOUT_MS = 30_000;

export function onCleanup(name: string, run: () => Promise<unknown>, sync?: () => void): void {
  steps.push({ name, run, sync });
}

/** Where the stack is now: a drill unwinds to it when it ends. */
export const cleanupMark = () => steps.length;

/** Runs and removes every step above `mark`, newest first; a failing or hanging step does not stop the others. */
export async function unwind(mark: number, log: (m: string) => void): Promise<void> {
  while (steps.length > mark) {
    const step = steps.pop()!;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        step.run(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${STEP_TIMEOUT_MS / 1000} s`)), STEP_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      log(`cleanup (${step.name}): ${err instanceof Error ? err.message : String(err)}`);
      try {
        step.sync?.();
      } catch {
        // the exit hook below is the last resort
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

process.on('exit', () => {
  for (const step of steps.splice(0).reverse()) {
    try {
      step.sync?.();
    } catch {
      // nothing more can be done while exiting
    }
  }
});

/**
 * Asserts that `probe` stays quiet (false, null, undefined, 0, '' or an empty array) for the whole
 * window of `ms`, checking every `intervalMs`: what a test means by "wait, then nothing happened".
 * Throws at the first noise, with what the probe returned.
 */
export async function expectQuietFor<T>(
  ms: number,
  probe: () => Promise<T> | T,
  opts: { intervalMs?: number; what?: string } = {},
): Promise<void> {
  const started = Date.now();
  const deadline = started + ms;
  for (;;) {
    const seen = await probe();
    if (Array.isArray(seen) ? seen.length > 0 : Boolean(seen)) {
      throw new Error(
        `expected ${opts.what ?? 'quiet'} for ${ms} ms, but after ${Date.now() - started} ms saw ${JSON.stringify(seen)}`,
      );
    }
    const left = deadline - Date.now();
    if (left <= 0) return;
    await new Promise((r) => setTimeout(r, Math.min(left, opts.intervalMs ?? 50)));
  }
}

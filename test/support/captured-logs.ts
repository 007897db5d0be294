export interface LogLine {
  level: number;
  msg: string;
  context?: string;
}

/**
 * Captures every JSON log line the apps of this process write until `restore()`: pino writes to
 * process.stdout once its write is replaced, so replacing it sees every app's lines.
 */
export function captureLogs(): { lines: LogLine[]; restore: () => void } {
  const lines: LogLine[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        /* not a log line */
      }
    }
    return true;
  });
  return { lines, restore: () => spy.mockRestore() };
}

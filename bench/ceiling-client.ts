/**
 * The machine's ceiling: a plain Node HTTP client, in a process of its own like the worker,
 * sends `total` POSTs of one pre-made body to the receivers with `concurrency` in flight, over a
 * keep-alive agent set up like the worker's sender. Started with fork(); the job arrives as an
 * IPC message, the result goes back the same way.
 */
import http from 'node:http';

export interface CeilingJob {
  urls: string[];
  body: string;
  headers: Record<string, string>;
  total: number;
  concurrency: number;
}

export interface CeilingResult {
  total: number;
  failed: number;
  durationMs: number;
  cpuSeconds: number;
}

function post(agent: http.Agent, url: string, headers: Record<string, string>, body: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    });
    req.on('error', () => resolve(false));
    req.on('response', (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve((res.statusCode ?? 0) < 300));
      res.on('error', () => resolve(false));
    });
    req.end(body);
  });
}

export async function runCeiling(job: CeilingJob): Promise<CeilingResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 512, scheduling: 'lifo' });
  let next = 0;
  let failed = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const lane = async () => {
    while (next < job.total) {
      const n = next++;
      if (!(await post(agent, job.urls[n % job.urls.length], job.headers, job.body))) failed++;
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, lane));
  const durationMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  agent.destroy();
  return { total: job.total, failed, durationMs, cpuSeconds: (used.user + used.system) / 1e6 };
}

if (require.main === module && process.send) {
  process.send('ready');
  process.once('message', (job: CeilingJob) => {
    runCeiling(job).then(
      (result) => process.send!(result, () => process.exit(0)),
      (err: unknown) => {
        process.stderr.write(`ceiling client failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  });
}

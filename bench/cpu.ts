import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (user + system) used so far, by group, read from /proc (Linux); empty elsewhere. */
export type CpuSample = { at: number; total: number; busy: number; steal: number; groups: Record<string, number> };

const TICKS_PER_SECOND = 100;

function procTicks(pid: string): { comm: string; ticks: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return { comm, ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

/** Groups: the given named pids, then postgres and redis-server by process name, then everything else. */
export function sampleCpu(named: Record<string, number[]>): CpuSample | null {
  let cpuLine: string;
  try {
    cpuLine = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  } catch {
    return null;
  }
  // user nice system idle iowait irq softirq steal (guest time is already counted in user).
  const t = cpuLine.split(/\s+/).slice(1, 9).map(Number);
  const total = t.reduce((a, b) => a + b, 0);
  const idle = t[3] + (t[4] ?? 0);
  const steal = t[7] ?? 0;
  const byPid = new Map<string, string>();
  for (const [group, pids] of Object.entries(named)) for (const pid of pids) byPid.set(String(pid), group);
  const groups: Record<string, number> = {};
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const p = procTicks(pid);
    if (!p) continue;
    const group = byPid.get(pid) ?? (p.comm === 'postgres' ? 'postgres' : p.comm === 'redis-server' ? 'redis' : 'other');
    groups[group] = (groups[group] ?? 0) + p.ticks / TICKS_PER_SECOND;
  }
  return {
    at: Date.now(),
    total: total / TICKS_PER_SECOND,
    busy: (total - idle) / TICKS_PER_SECOND,
    steal: steal / TICKS_PER_SECOND,
    groups,
  };
}

/** Average cores used by each group between two samples, plus the machine's busy share and the hypervisor's steal share. */
export function cpuBetween(
  a: CpuSample | null,
  b: CpuSample | null,
): { busyShare: number; stealShare: number; cores: Record<string, number> } | null {
  if (!a || !b) return null;
  const seconds = (b.at - a.at) / 1000;
  const cores: Record<string, number> = {};
  for (const g of Object.keys(b.groups)) cores[g] = Math.max(0, (b.groups[g] - (a.groups[g] ?? 0)) / seconds);
  const span = Math.max(1e-9, b.total - a.total);
  return { busyShare: (b.busy - a.busy) / span, stealShare: (b.steal - a.steal) / span, cores };
}

/** CPU seconds used by each group between two samples (empty without /proc). */
export function cpuSecondsBetween(a: CpuSample | null, b: CpuSample | null): Record<string, number> {
  if (!a || !b) return {};
  return Object.fromEntries(Object.keys(b.groups).map((g) => [g, Math.max(0, b.groups[g] - (a.groups[g] ?? 0))]));
}

/** The redis-server processes serving 127.0.0.1:<port> for the given ports (a local cluster's nodes), from /proc. */
export function redisServerPids(ports: number[]): number[] {
  const wanted = new Set(ports.map((p) => `127.0.0.1:${p}`));
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
      const m = /^redis-server (\S+)/.exec(cmd);
      if (m && wanted.has(m[1])) pids.push(Number(pid));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

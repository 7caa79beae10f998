import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { Redis } from 'ioredis';

/**
 * What the bench reads about processes from /proc (Linux): CPU time, the
 * main thread's CPU time, RSS, and a process's descendants.
 *
 * CPU is utime + stime of /proc/<pid>/stat, in clock ticks (USER_HZ, 100 on
 * Linux): every thread of the process, so chDB's threads and libuv's pool
 * count, and nothing of its children (those are counted on their own pids).
 */
const TICKS_PER_SECOND = 100;

export interface ProcUsage {
  /** CPU seconds, all threads. */
  cpu: number;
  /** CPU seconds of the main thread (the JavaScript event loop of a Node process). */
  mainThreadCpu: number;
  rssMb: number;
}

function statTicks(file: string): number {
  const stat = fs.readFileSync(file, 'utf8');
  // Fields 14 and 15 (utime, stime), counted after the ")" that ends the command name.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU and RSS of one process, or undefined if it is gone. */
export function usage(pid: number): ProcUsage | undefined {
  try {
    const cpu = statTicks(`/proc/${pid}/stat`) / TICKS_PER_SECOND;
    const mainThreadCpu = statTicks(`/proc/${pid}/task/${pid}/stat`) / TICKS_PER_SECOND;
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssMb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
    return { cpu, mainThreadCpu, rssMb };
  } catch {
    return undefined;
  }
}

/** The pid and all its descendants (`pgrep -P`, recursively): `npm start`'s main process and its worker process. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let children = '';
    try {
      children = execFileSync('pgrep', ['-P', String(out[i])], { encoding: 'utf8' });
    } catch {
      // pgrep exits 1 when there is no child
    }
    for (const line of children.split('\n')) if (line.trim()) out.push(Number(line.trim()));
  }
  return out;
}

/** The redis-server's pid, from `INFO server` (process_id): its CPU is part of the cost of an event. */
export async function redisPid(redisUrl: string): Promise<number | undefined> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info('server');
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    // Only a local redis-server can be read from /proc.
    return Number.isFinite(pid) && usage(pid) ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/** CPU seconds of named groups of processes at one moment. */
export interface CpuSnapshot {
  at: number;
  /** group → pid → usage. */
  groups: Record<string, Map<number, ProcUsage>>;
}

export interface CpuDelta {
  seconds: number;
  /** group → CPU seconds used between the two snapshots (all threads). */
  cpu: Record<string, number>;
  /** group → CPU seconds of the processes' main threads. */
  mainThreadCpu: Record<string, number>;
  /** Processes present in only one of the snapshots (a restart): their CPU is counted from when they were seen. */
  changed: string[];
}

/**
 * Reads CPU of groups of processes before and after a phase. The pids of a
 * group are looked up at each snapshot (`pids()`), so a worker process
 * started or restarted in between is noticed and reported.
 */
export class CpuMeter {
  constructor(private readonly groups: Record<string, () => number[]>) {}

  snapshot(): CpuSnapshot {
    const groups: CpuSnapshot['groups'] = {};
    for (const [name, pids] of Object.entries(this.groups)) {
      const m = new Map<number, ProcUsage>();
      for (const pid of pids()) {
        const u = usage(pid);
        if (u) m.set(pid, u);
      }
      groups[name] = m;
    }
    return { at: performance.now(), groups };
  }

  static delta(before: CpuSnapshot, after: CpuSnapshot): CpuDelta {
    const cpu: Record<string, number> = {};
    const mainThreadCpu: Record<string, number> = {};
    const changed: string[] = [];
    for (const [name, a] of Object.entries(after.groups)) {
      const b = before.groups[name] ?? new Map<number, ProcUsage>();
      let total = 0;
      let main = 0;
      for (const [pid, u] of a) {
        const was = b.get(pid);
        if (!was) changed.push(`${name}: pid ${pid} appeared`);
        total += u.cpu - (was?.cpu ?? 0);
        main += u.mainThreadCpu - (was?.mainThreadCpu ?? 0);
      }
      for (const pid of b.keys()) if (!a.has(pid)) changed.push(`${name}: pid ${pid} exited`);
      cpu[name] = total;
      mainThreadCpu[name] = main;
    }
    return { seconds: (after.at - before.at) / 1000, cpu, mainThreadCpu, changed };
  }
}

/** RSS (sum over the processes of `pids()`) once a second. */
export class RssSampler {
  readonly samples: { t: number; rssMb: number; byPid: Record<number, number> }[] = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly pids: () => number[]) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
  }

  stop(): this['samples'] {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return this.samples;
  }

  private sample(): void {
    const byPid: Record<number, number> = {};
    let rssMb = 0;
    for (const pid of this.pids()) {
      const u = usage(pid);
      if (!u) continue;
      byPid[pid] = u.rssMb;
      rssMb += u.rssMb;
    }
    this.samples.push({ t: performance.now(), rssMb, byPid });
  }
}

/**
 * Summarises a V8 .cpuprofile (as written by BENCH_CPU_PROF): where a
 * server process's main thread spent its time, by package/file (self time)
 * and by function (self and inclusive).
 *
 *   node dist-bench/bench/profile-summary.js <file.cpuprofile> [top=25] [--from <µs>] [--to <µs>]
 *
 * `node --cpu-prof` profiles a process's whole life; --from/--to keep the
 * samples of one phase. Their unit is the profile's own clock (µs of the
 * monotonic clock, which is process.hrtime's): the bench prints each
 * phase's window in it and writes them to phases-<run id>.json.
 */
import fs from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  if (i === -1) return undefined;
  const value = Number(args[i + 1]);
  args.splice(i, 2);
  return value;
};
const from = option('--from') ?? -Infinity;
const to = option('--to') ?? Infinity;
const [file, topArg] = args;
if (!file) {
  process.stderr.write('usage: profile-summary <file.cpuprofile> [top] [--from <µs>] [--to <µs>]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const short = (url: string) => {
  const path = url.replace(/^file:\/\//, '');
  return path.includes('/node_modules/') ? path.replace(/.*\/node_modules\//, '~/') : path.replace(/.*\/(dist|src)\//, '$1/');
};
const fnKey = (cf: CallFrame) => `${cf.functionName || '(anonymous)'} ${short(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
const fileKey = (cf: CallFrame) => {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(cf.url)?.[1];
  if (pkg) return `npm:${pkg}`;
  if (cf.url) return short(cf.url);
  return cf.functionName || '(native)';
};

const perNode = new Map<number, number>();
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i] ?? 0;
  if (at >= from && at <= to) perNode.set(id, (perNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
let total = 0;
const selfByFile = new Map<string, number>();
const selfByFn = new Map<string, number>();
const inclusive = new Map<string, number>();
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
for (const [id, us] of perNode) {
  const node = nodes.get(id)!;
  total += us;
  add(selfByFile, fileKey(node.callFrame), us);
  add(selfByFn, fnKey(node.callFrame), us);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const key = fnKey(nodes.get(cur)!.callFrame);
    if (!seen.has(key)) add(inclusive, key, us);
    seen.add(key);
  }
}
const print = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((v / total) * 100).toFixed(1).padStart(6)}%  ${k}\n`);
  }
};
process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} s sampled${Number.isFinite(from) || Number.isFinite(to) ? ` between ${from} and ${to} µs` : ''}\n`);
print('self time by package / file', selfByFile);
print('self time by function', selfByFn);
print('inclusive time by function', inclusive);

import type { Redis } from 'ioredis';
import { percentile } from '../load';

/** Bytes of Redis memory (MEMORY USAGE) per owner of risk-worker keys. */
export interface FootprintStats {
  owners: number;
  keys: number;
  meanBytes: number;
  p50Bytes: number;
  p99Bytes: number;
  maxBytes: number;
}

export interface RiskFootprint {
  /** Per account: `<prefix>:risk:s:<hash>:*` (failure windows, devices, networks, last location, recent decisions). */
  perUser: FootprintStats;
  /** Per IP: `<prefix>:risk:i:<ip>:*` (failing accounts, attempts in the last minute) and its block, if any. */
  perIp: FootprintStats;
  /** Per event: `<prefix>:risk:e:<event id>`, its signals kept an hour for retries. */
  perEvent: FootprintStats;
  /** Each kind of key (`s:…:d`, `i:…:fa`, `block`, `e`): how many and their mean size. */
  byKind: Record<string, { keys: number; meanBytes: number }>;
}

function stats(byOwner: Map<string, { keys: number; bytes: number }>): FootprintStats {
  const sizes = [...byOwner.values()].map((o) => o.bytes);
  const keys = [...byOwner.values()].reduce((n, o) => n + o.keys, 0);
  return {
    owners: sizes.length,
    keys,
    meanBytes: sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : NaN,
    p50Bytes: percentile(sizes, 50),
    p99Bytes: percentile(sizes, 99),
    maxBytes: sizes.length ? Math.max(...sizes) : NaN,
  };
}

/** Measures the risk worker's keys under `prefix` with MEMORY USAGE (SAMPLES 0: every element counted). */
export async function measureRiskFootprint(redis: Redis, prefix: string): Promise<RiskFootprint> {
  const owners = { s: new Map<string, { keys: number; bytes: number }>(), i: new Map<string, { keys: number; bytes: number }>(), e: new Map<string, { keys: number; bytes: number }>() };
  const kinds = new Map<string, { keys: number; bytes: number }>();
  const base = `${prefix}:risk:`;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${base}*`, 'COUNT', 2000);
    cursor = next;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    const sizes = (await pipeline.exec()) ?? [];
    keys.forEach((key, n) => {
      const bytes = Number(sizes[n]?.[1] ?? 0);
      const rest = key.slice(base.length);
      // s:<hash>:<part>, i:<ip>:<part> (an IPv6 address has colons of its own), block:<ip>, e:<event id>
      let kind: keyof typeof owners;
      let owner: string;
      if (rest.startsWith('s:')) [kind, owner] = ['s', rest.slice(2, rest.lastIndexOf(':'))];
      else if (rest.startsWith('i:')) [kind, owner] = ['i', rest.slice(2, rest.lastIndexOf(':'))];
      else if (rest.startsWith('block:')) [kind, owner] = ['i', rest.slice('block:'.length)];
      else if (rest.startsWith('e:')) [kind, owner] = ['e', rest.slice(2)];
      else return;
      const entry = owners[kind].get(owner) ?? { keys: 0, bytes: 0 };
      entry.keys++;
      entry.bytes += bytes;
      owners[kind].set(owner, entry);
      const part = rest.startsWith('block:') ? 'block' : kind === 'e' ? 'e' : `${kind}:…:${rest.slice(rest.lastIndexOf(':') + 1)}`;
      const k = kinds.get(part) ?? { keys: 0, bytes: 0 };
      k.keys++;
      k.bytes += bytes;
      kinds.set(part, k);
    });
  } while (cursor !== '0');
  const byKind = Object.fromEntries([...kinds].sort().map(([part, k]) => [part, { keys: k.keys, meanBytes: Math.round(k.bytes / k.keys) }]));
  return { perUser: stats(owners.s), perIp: stats(owners.i), perEvent: stats(owners.e), byKind };
}

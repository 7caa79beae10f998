/**
 * What one idempotency record costs in Redis (issue 15, item 3): writes N
 * records (random UUIDs, one app, one bucket) through the product's
 * IdempotencyRecords, 5,000 per call as a busy API would, and reports
 * `MEMORY USAGE` of the bucket hash and the growth of `used_memory` (INFO),
 * each per record. Then the same for the old layout (one key per event_id
 * with the 64-hex content hash and a TTL), for comparison. Everything is
 * written under a throwaway prefix and deleted at the end.
 *
 * argv: records (default 1000000). REDIS_URL as the product reads it.
 * Run: npm run build && tsc -p bench/tsconfig.json && node dist-bench/bench/idempotency-memory.bench.js
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { product } from '../traffic/product';

const { IdempotencyRecords } = product.idempotencyRecords();

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1_000_000);
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `idem-bench-${randomBytes(4).toString('hex')}`;
  const hash = () => createHash('sha256').update(randomUUID()).digest('hex');
  try {
    const records = new IdempotencyRecords(redis, { prefix, windowMinutes: 10 });
    const before = await usedMemory(redis);
    const started = performance.now();
    for (let start = 0; start < n; start += 5000) {
      await records.remember(Array.from({ length: Math.min(5000, n - start) }, () => ({ sourceApp: 'bench', eventId: randomUUID(), contentHash: hash() })));
    }
    const ms = performance.now() - started;
    const after = await usedMemory(redis);
    const keys = await redis.keys(`${prefix}:idem:bench:*`);
    let usage = 0;
    let count = 0;
    for (const key of keys) {
      usage += Number(await redis.memory('USAGE', key, 'SAMPLES', '0'));
      count += await redis.hlen(key);
    }
    console.log(`new layout: ${count.toLocaleString('en')} records in ${keys.length} bucket hash(es), written in ${(ms / 1000).toFixed(1)} s`);
    console.log(
      `  MEMORY USAGE ${(usage / 1048576).toFixed(1)} MiB = ${(usage / count).toFixed(1)} B/record; used_memory +${((after - before) / 1048576).toFixed(1)} MiB = ${((after - before) / count).toFixed(1)} B/record`,
    );
    await redis.unlink(...keys);

    // The old layout, for comparison: `<prefix>:idem:<app>:<event_id>` → content hash, EX 86400.
    const oldCount = Math.min(n, 200_000);
    const beforeOld = await usedMemory(redis);
    for (let start = 0; start < oldCount; start += 5000) {
      const pipeline = redis.pipeline();
      for (let i = 0; i < 5000 && start + i < oldCount; i++) pipeline.set(`${prefix}:idem:bench:${randomUUID()}`, hash(), 'EX', 86_400, 'NX');
      await pipeline.exec();
    }
    const afterOld = await usedMemory(redis);
    console.log(`old layout: ${oldCount.toLocaleString('en')} keys, used_memory +${((afterOld - beforeOld) / 1048576).toFixed(1)} MiB = ${((afterOld - beforeOld) / oldCount).toFixed(1)} B/record`);
  } finally {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
      cursor = next;
      if (found.length > 0) await redis.unlink(...found);
    } while (cursor !== '0');
    await redis.quit();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

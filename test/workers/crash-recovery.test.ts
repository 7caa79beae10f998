import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { openClickHouse } from '../../src/lib/clickhouse';
import { QUEUE_NAMES } from '../../src/queues/queue-names';
import { spawnAuditflow } from '../helpers/child';
import { countUnique, createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually, REDIS_URL } from '../helpers/test-env';

const ns = createNamespace('crash');

/** 97 audit rows, 1 auth, 1 failed login: the audit table fills (and flushes) long before the other two. */
function batch(round: number) {
  return Array.from({ length: 99 }, (_, i) => {
    const event_id = randomUUID();
    if (i === 97) return { kind: 'auth', event_type: 'login_success', event_id, user_id: `u${round}`, ip_address: '10.1.1.1' };
    if (i === 98) return { kind: 'failed_login', event_id, email_address: `u${round}@example.com`, failure_reason: 'INVALID_PASSWORD' };
    return { kind: 'audit', event_type: 'profile_updated', event_id, user_id: `u${round}`, new_value: { i } };
  });
}

it('loses nothing and duplicates nothing when the worker is killed mid-batch and restarted', async () => {
  const api = await startStack(ns, { ROLE: 'api' });
  const key = await createApiKey(ns, 'crash-app');
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAMES.ingest, { connection: redis, prefix: ns.queuePrefix });
  const counts = () => queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized', 'failed', 'completed');
  try {
    // Phase 1: audit rows flush every 100 rows; auth and failed-login rows wait 60 s,
    // so every job has rows already in ClickHouse and rows still in memory.
    let worker = await spawnAuditflow(ns.env({ ROLE: 'worker', FLUSH_MAX_ROWS: '100', FLUSH_MAX_AGE_MS: '60000', JOB_LOCK_MS: '2000' }));
    const posted: unknown[][] = [];
    for (let round = 0; round < 12; round++) {
      const events = batch(round);
      expect((await postEvents(api.url, key, events)).status).toBe(202);
      posted.push(events);
    }
    // (Plus the API's own api_access events, published in jobs of their own.)
    await eventually(async () => {
      const c = await counts();
      return (c.active ?? 0) >= 12 && c.waiting === 0;
    }, 20_000);
    await new Promise((r) => setTimeout(r, 1000)); // let the audit flushes finish
    worker.child.kill('SIGKILL');
    await worker.exited;

    // Phase 2: a new worker picks up the stalled jobs and re-runs them.
    worker = await spawnAuditflow(ns.env({ ROLE: 'worker', FLUSH_MAX_AGE_MS: '300', JOB_LOCK_MS: '2000' }));
    for (let round = 12; round < 20; round++) {
      const events = batch(round);
      expect((await postEvents(api.url, key, events)).status).toBe(202);
      posted.push(events);
    }
    // Clients retry after the crash: the same events again must not become new rows.
    for (const events of posted.slice(5, 15)) expect((await postEvents(api.url, key, events)).status).toBe(202);
    await eventually(
      async () => {
        const c = await counts();
        return Object.entries(c).every(([state, n]) => state === 'completed' || n === 0);
      },
      60_000,
      250,
    );
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);

    const clickhouse = await openClickHouse(ns.config().clickhouse);
    try {
      expect(await countUnique(clickhouse, 'audit_logs')).toEqual({ count: posted.length * 97, unique: posted.length * 97 });
      expect(await countUnique(clickhouse, 'auth_audit_log')).toEqual({ count: posted.length, unique: posted.length });
      expect(await countUnique(clickhouse, 'failed_login_attempts')).toEqual({ count: posted.length, unique: posted.length });
      const [dead] = await queryRows<{ n: number }>(clickhouse, 'SELECT count() AS n FROM dead_letter_events');
      expect(Number(dead!.n)).toBe(0);
    } finally {
      await clickhouse.close();
    }
  } finally {
    await queue.close();
    await redis.quit();
    await api.stop();
    await ns.cleanup();
  }
}, 180_000);

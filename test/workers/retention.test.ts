import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { runControlJob } from '../../src/queues/control-client';
import { createControlQueue } from '../../src/queues/queues';
import { KeyRing } from '../../src/lib/key-ring';
import { SigningKey } from '../../src/lib/signing-key';
import { IntegrityVerifier } from '../../src/workers/integrity-verifier';
import { SealRepository } from '../../src/workers/seal.repository';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, REDIS_URL } from '../helpers/test-env';

const ns = createNamespace('retention');

it('a retention prune deletes whole sealed flushes, is audited, and keeps verification green', async () => {
  const stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  const pg = new Pool({ connectionString: ns.databaseUrl, max: 2 });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const control = createControlQueue(redis, ns.config());
  try {
    const key = await createApiKey(ns, 'retention-app');
    const batch = (tag: string) => Array.from({ length: 20 }, () => ({ kind: 'audit', event_type: 'profile_updated', event_id: randomUUID(), user_id: tag }));
    expect((await postEvents(stack.url, key, batch('old'))).status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    await stack.writer!.flushAll();
    await new Promise((r) => setTimeout(r, 50));
    const cutoff = new Date();
    await new Promise((r) => setTimeout(r, 50));
    expect((await postEvents(stack.url, key, batch('new'))).status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    await stack.writer!.flushAll();

    await pg.query(`UPDATE data_retention_policies SET is_active = (table_name = 'audit_logs'), delete_after_days = 0`);
    const result = await runControlJob(control, redis, { type: 'retention', now: cutoff.toISOString() }, 60_000);
    expect(result.pruned).toEqual([expect.objectContaining({ table: 'audit_logs', rows_pruned: 20 })]);
    await stack.writer!.flushAll();

    const users = await queryRows<{ user_id: string; n: number }>(stack.clickhouse!, `SELECT user_id, count() AS n FROM audit_logs WHERE user_id IN ('old', 'new') GROUP BY user_id`);
    expect(users).toEqual([{ user_id: 'new', n: 20 }]);
    const [event] = await queryRows<{ entity_id: string; rows: number }>(stack.clickhouse!, `SELECT entity_id, new_value.rows_pruned AS rows FROM audit_logs WHERE event_type = 'retention_pruned'`);
    expect(event).toEqual({ entity_id: 'audit_logs', rows: 20 });
    const { rows: policy } = await pg.query(`SELECT last_cleanup_at FROM data_retention_policies WHERE table_name = 'audit_logs'`);
    expect(policy[0].last_cleanup_at).toBeInstanceOf(Date);

    const key$ = SigningKey.load(undefined, `${ns.dataDir}/keys`);
    const verifier = new IntegrityVerifier(stack.clickhouse!, KeyRing.of(key$.publicKey), new SealRepository(pg, stack.clickhouse!));
    const ok = await verifier.verify();
    expect(ok.tables.filter((t) => !t.ok)).toEqual([]);

    // A deletion without a prune record is still tampering…
    await stack.clickhouse!.command({ query: `ALTER TABLE audit_logs DELETE WHERE user_id = 'new' AND chain_index = 3`, clickhouse_settings: { mutations_sync: '2' } });
    expect((await verifier.verify()).tables.find((t) => t.table === 'audit_logs')!.first_break).toMatchObject({ kind: 'row_deleted' });
    // …and a forged prune record cannot excuse it.
    await stack.clickhouse!.insert({
      table: 'integrity_prunes',
      values: [{ table_name: 'audit_logs', up_to_seq: 999, rows_pruned: 1, cutoff: '2030-01-01 00:00:00.000', pruned_at: '2030-01-01 00:00:00.000', policy_days: 0, key_id: key$.keyId, prune_hash: 'x', signature: 'x' }],
      format: 'JSONEachRow',
      clickhouse_settings: { async_insert: 0 },
    });
    expect((await verifier.verify()).tables.find((t) => t.table === 'audit_logs')!.first_break).toMatchObject({ kind: 'bad_signature' });
  } finally {
    await control.close();
    await redis.quit();
    await pg.end();
    await stack.stop();
    await ns.cleanup();
  }
}, 60_000);

import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { runControlJob } from '../../src/queues/control-client';
import { createControlQueue } from '../../src/queues/queues';
import { KeyRing } from '../../src/lib/key-ring';
import { SigningKey } from '../../src/lib/signing-key';
import { IntegrityVerifier } from '../../src/features/integrity/integrity-verifier';
import { SealRepository } from '../../src/features/integrity/seal.repository';
import { api } from '../helpers/accounts';
import { runCliAsync } from '../helpers/child';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace, REDIS_URL } from '../helpers/test-env';

const ns = createNamespace('retention');

it('archives then prunes whole sealed flushes, audits both, keeps verification green, and never deletes what it could not archive', async () => {
  const stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100', RETENTION_MIN_DAYS: '0' }); // the floor lowered by the environment, as an operator may
  const pg = new Pool({ connectionString: ns.databaseUrl, max: 2 });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const control = createControlQueue(redis, ns.config());
  try {
    const key = await createApiKey(ns, 'retention-app', ['ingest', 'reports']);
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
    await new Promise((r) => setTimeout(r, 50));
    const later = new Date();

    await pg.query(`UPDATE data_retention_policies SET is_active = (table_name = 'audit_logs'), retention_period_days = 0, archive_after_days = 0, delete_after_days = 0`);
    const result = await runControlJob(control, redis, { type: 'retention', now: cutoff.toISOString() }, 60_000);
    expect(result.archived).toEqual([expect.objectContaining({ table: 'audit_logs', rows: 20 })]);
    expect(result.pruned).toEqual([expect.objectContaining({ table: 'audit_logs', rows_pruned: 20 })]);
    await stack.writer!.flushAll();

    // The archive: gzip JSONEachRow and a signed manifest, checkable with no database.
    const archiveDir = path.join(ns.dataDir, 'archive');
    const manifest = path.join(archiveDir, result.archived[0]!.file.replace(/\.jsonl\.gz$/, '.manifest.json'));
    const pem = path.join(ns.dataDir, 'public.pem');
    fs.writeFileSync(pem, (await runCliAsync(['keys', 'export-public'], ns.env())).stdout);
    const verified = await runCliAsync(['archive', 'verify', manifest, '--public-key', pem], ns.env());
    expect(verified.stdout).toMatch(/^OK: audit_logs seals 1-1, 20 rows/);
    expect(verified.code).toBe(0);
    const doc = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    fs.writeFileSync(manifest, JSON.stringify({ ...doc, rows: 19 }));
    const edited = await runCliAsync(['archive', 'verify', manifest, '--public-key', pem], ns.env());
    expect(edited.code).toBe(1);
    expect(edited.stdout).toMatch(/FAILED: the manifest does not match its manifest_hash/);
    fs.writeFileSync(manifest, JSON.stringify(doc));
    const data = path.join(archiveDir, result.archived[0]!.file);
    const bytes = fs.readFileSync(data);
    const middle = bytes.length >> 1;
    bytes[middle] = bytes[middle]! ^ 1;
    fs.writeFileSync(data, bytes);
    const flipped = await runCliAsync(['archive', 'verify', manifest, '--public-key', pem], ns.env());
    expect(flipped.code).toBe(1);
    expect(flipped.stdout).toMatch(/FAILED: /);
    bytes[middle] = bytes[middle]! ^ 1;
    fs.writeFileSync(data, bytes);

    const users = await queryRows<{ user_id: string; n: number }>(stack.clickhouse!, `SELECT user_id, count() AS n FROM audit_logs WHERE user_id IN ('old', 'new') GROUP BY user_id`);
    expect(users).toEqual([{ user_id: 'new', n: 20 }]);
    const [event] = await queryRows<{ entity_id: string; rows: number }>(stack.clickhouse!, `SELECT entity_id, new_value.rows_pruned AS rows FROM audit_logs WHERE event_type = 'retention_pruned'`);
    expect(event).toEqual({ entity_id: 'audit_logs', rows: 20 });
    const [archived] = await queryRows<{ rows: number; file: string }>(
      stack.clickhouse!,
      `SELECT new_value.rows_archived AS rows, new_value.file AS file FROM audit_logs WHERE event_type = 'retention_archived'`,
    );
    expect(archived).toEqual({ rows: 20, file: result.archived[0]!.file });
    const { rows: policy } = await pg.query(`SELECT last_cleanup_at, last_archive_at FROM data_retention_policies WHERE table_name = 'audit_logs'`);
    expect(policy[0].last_cleanup_at).toBeInstanceOf(Date);
    expect(policy[0].last_archive_at).toBeInstanceOf(Date);

    // The monthly report counts both among the retention actions: the month so far, a period that has ended now.
    const month = new Date(Date.UTC(cutoff.getUTCFullYear(), cutoff.getUTCMonth(), 1));
    await new Promise((r) => setTimeout(r, 5));
    const generated = await api<{ id: string }>(stack.url, 'POST', '/v1/reports', {
      token: key,
      body: { type: 'monthly_compliance', period_start: month.toISOString(), period_end: new Date().toISOString() },
    });
    const report = (await api<{ content: { retention_actions: unknown; integrity: { ok: boolean } } }>(stack.url, 'GET', `/v1/reports/${generated.body.id}`, { token: key })).body;
    expect(report.content.retention_actions).toEqual({ retention_archived: 1, retention_pruned: 1 });
    expect(report.content.integrity.ok).toBe(true);

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
      values: [
        {
          table_name: 'audit_logs',
          up_to_seq: 999,
          rows_pruned: 1,
          cutoff: '2030-01-01 00:00:00.000',
          pruned_at: '2030-01-01 00:00:00.000',
          policy_days: 0,
          key_id: key$.keyId,
          prune_hash: 'x',
          signature: 'x',
        },
      ],
      format: 'JSONEachRow',
      clickhouse_settings: { async_insert: 0 },
    });
    expect((await verifier.verify()).tables.find((t) => t.table === 'audit_logs')!.first_break).toMatchObject({ kind: 'bad_signature' });

    // The flush of 'new' no longer verifies: it is not archived, so it is not deleted, forged prune record or not.
    const second = await runControlJob(control, redis, { type: 'retention', now: later.toISOString() }, 60_000);
    expect(second).toMatchObject({ archived: [], pruned: [] });
    const left = await queryRows<{ n: number }>(stack.clickhouse!, `SELECT count() AS n FROM audit_logs WHERE user_id = 'new'`);
    expect(left).toEqual([{ n: 19 }]);
  } finally {
    await control.close();
    await redis.quit();
    await pg.end();
    await stack.stop();
    await ns.cleanup();
  }
}, 60_000);

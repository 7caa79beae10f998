import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { VerificationResult } from '../../src/domain/verification';
import { api } from '../helpers/accounts';
import { createApiKey, postEvents, queryRows, startStack } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('systemlogs');

/**
 * chDB 26 configures none of ClickHouse's system log tables (query_log,
 * part_log, trace_log, metric_log, text_log, …) and writes no server log, so
 * nothing under $DATA_DIR/clickhouse grows but auditflow's own tables. If a
 * chDB upgrade turns any of them on, this fails and names them: bound them
 * then (TTL or truncation) before upgrading.
 */
it('the embedded store keeps no system log tables, even asked to log queries, so only auditflow’s tables grow', async () => {
  const stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  const store = path.join(ns.dataDir, 'clickhouse');
  let owned: Set<string>;
  try {
    const key = await createApiKey(ns, 'logs-app', ['ingest', 'reports']);
    for (let i = 0; i < 5; i++) {
      const events = Array.from({ length: 50 }, () => ({ kind: 'audit', event_type: 'profile_updated', event_id: randomUUID(), user_id: 'u' }));
      expect((await postEvents(stack.url, key, events)).status).toBe(202);
      await new Promise((r) => setTimeout(r, 150));
      await stack.writer!.flushAll();
    }
    expect((await api<VerificationResult>(stack.url, 'GET', '/v1/integrity/verify', { token: key })).body.ok).toBe(true);
    const ch = stack.clickhouse!;
    // A system table with storage of its own (query_log and the rest are MergeTree tables; the System* engines are views of memory).
    // Everything that would feed query_log, query_thread_log, processors_profile_log, part_log and text_log on a server.
    const logging = { log_queries: 1, log_query_threads: 1, log_processors_profiles: 1, log_query_views: 1 } as const;
    for (let i = 0; i < 20; i++) await (await ch.query({ query: 'SELECT count() FROM audit_logs', clickhouse_settings: logging })).json();
    await ch.command({ query: `ALTER TABLE audit_logs UPDATE reason = reason WHERE 0`, clickhouse_settings: { ...logging, mutations_sync: '2' } });
    await ch.command({ query: 'OPTIMIZE TABLE audit_logs FINAL', clickhouse_settings: logging });
    await ch.command({ query: 'SYSTEM FLUSH LOGS' });

    const logTables = await queryRows<{ name: string; engine: string }>(ch, `SELECT name, engine FROM system.tables WHERE database = 'system' AND engine NOT LIKE 'System%'`);
    expect(logTables).toEqual([]);
    const [queries] = await queryRows<{ n: number }>(ch, `SELECT count() AS n FROM system.tables WHERE database = 'system' AND name = 'query_log'`);
    expect(queries!.n).toBe(0);

    const tables = await queryRows<{ uuid: string }>(ch, `SELECT toString(uuid) AS uuid FROM system.tables WHERE database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema')`);
    const databases = await queryRows<{ uuid: string }>(ch, `SELECT toString(uuid) AS uuid FROM system.databases`);
    owned = new Set([...tables, ...databases].map((r) => r.uuid));
  } finally {
    await stack.stop();
  }
  try {
    // Every directory of table data belongs to a database or table of ours: no system table has data on disk…
    const dirs = fs.readdirSync(path.join(store, 'store')).flatMap((prefix) => fs.readdirSync(path.join(store, 'store', prefix)));
    expect(dirs.filter((d) => !owned.has(d))).toEqual([]);
    expect(fs.existsSync(path.join(store, 'data', 'system'))).toBe(false);
    // …and no server log file is written anywhere in the store.
    const files = (fs.readdirSync(store, { recursive: true }) as string[]).filter((f) => /\.log$|clickhouse-server/.test(f));
    expect(files).toEqual([]);
  } finally {
    await ns.cleanup();
  }
}, 60_000);

/**
 * `auditflow migrate` changes the schema of PostgreSQL and ClickHouse: like
 * every other operator command, it leaves an audit event naming who ran it
 * (`cli` and the OS user) and what it did. It runs before the tables the
 * event ends up in exist, so the event waits in Redis (or the spool) until a
 * worker writes it; a run that fails partway is recorded as FAILURE with
 * what it applied before, and fails exactly as it would unaudited.
 */
import fs from 'node:fs';
import os from 'node:os';
import { migrationFiles } from '../../src/lib/clickhouse-migrations';
import { PG_MIGRATIONS_DIR } from '../../src/lib/pg-migrations';
import { runCliAsync } from '../helpers/child';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('migratecli');
/** Only its database is used: a PostgreSQL that no migration has run on yet. */
const fresh = createNamespace('migratecli-fresh');
const OS_USER = os.userInfo().username;
const PG_FILES = fs
  .readdirSync(PG_MIGRATIONS_DIR)
  .filter((f) => f.endsWith('.sql'))
  .sort();
const CLICKHOUSE_FILES = migrationFiles();
let stack: Awaited<ReturnType<typeof startStack>> | undefined;

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
  await fresh.cleanup();
});

interface MigrateEvent {
  action_type: string;
  entity_type: string;
  triggered_by_type: string;
  triggered_by_id: string;
  operation_status: string;
  failure_reason: string | null;
  duration_ms: number | null;
  next: { postgresql: string[]; clickhouse: string[]; applied: number; up_to_date: boolean };
  metadata: Record<string, unknown>;
}

/** The schema_migrated events, oldest first, once there are `n`. */
async function migrateEvents(n: number): Promise<MigrateEvent[]> {
  return eventually(async () => {
    const rows = await queryRows<Omit<MigrateEvent, 'next' | 'metadata'> & { next: string; metadata: string }>(
      stack!.clickhouse!,
      `SELECT action_type, entity_type, triggered_by_type, triggered_by_id, operation_status, failure_reason, duration_ms,
              toJSONString(new_value) AS next, toJSONString(metadata) AS metadata
         FROM audit_logs WHERE event_type = 'schema_migrated' ORDER BY occurred_at`,
    );
    return rows.length >= n && rows.map((r) => ({ ...r, next: JSON.parse(r.next), metadata: JSON.parse(r.metadata) }));
  }, 30_000);
}

describe('auditflow migrate', () => {
  it('on a fresh install with auditflow stopped: applies everything, then nothing; each run is a schema_migrated event by cli and the OS user, stored once a worker runs', async () => {
    const first = await runCliAsync(['migrate'], ns.env());
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`PostgreSQL: applied ${PG_FILES.join(', ')}\nClickHouse: applied ${CLICKHOUSE_FILES.join(', ')}\n`);
    const again = await runCliAsync(['migrate'], ns.env());
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('Up to date.\n');

    // No worker has run: the events wait in Redis until one does (its start finds the tables migrated).
    stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
    const [applied, upToDate] = await migrateEvents(2);
    const byOperator = { triggered_by_type: 'cli', triggered_by_id: OS_USER, action_type: 'EXECUTE', entity_type: 'DATABASE_SCHEMA', operation_status: 'SUCCESS', failure_reason: null };
    expect(applied).toMatchObject(byOperator);
    expect(applied!.next).toEqual({ postgresql: PG_FILES, clickhouse: CLICKHOUSE_FILES, applied: PG_FILES.length + CLICKHOUSE_FILES.length, up_to_date: false });
    expect(applied!.metadata).toMatchObject({ command: 'migrate', uid: os.userInfo().uid, hostname: os.hostname() });
    expect(applied!.duration_ms).toEqual(expect.any(Number));
    expect(upToDate).toMatchObject(byOperator);
    expect(upToDate!.next).toEqual({ postgresql: [], clickhouse: [], applied: 0, up_to_date: true });
  }, 120_000);

  it('failing partway (the running server owns the embedded store) fails as before, and records FAILURE with the PostgreSQL migrations it did apply', async () => {
    stack ??= await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
    // A PostgreSQL with nothing applied yet, and the store of the running server: PostgreSQL migrates, ClickHouse cannot.
    const run = await runCliAsync(['migrate'], ns.env({ DATABASE_URL: fresh.databaseUrl }));
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^auditflow: The embedded ClickHouse store at .* is in use by another auditflow process \(pid \d+\)/);
    // That one line only: nothing about the audit was added to the failure.
    expect(run.stderr.trim().split('\n')).toHaveLength(1);

    const failed = (await migrateEvents(3)).find((e) => e.operation_status === 'FAILURE');
    expect(failed).toMatchObject({ triggered_by_type: 'cli', triggered_by_id: OS_USER, metadata: expect.objectContaining({ command: 'migrate' }) });
    expect(failed!.next).toEqual({ postgresql: PG_FILES, clickhouse: [], applied: PG_FILES.length, up_to_date: false });
    expect(failed!.failure_reason).toMatch(/in use by another auditflow process/);
  }, 120_000);
});

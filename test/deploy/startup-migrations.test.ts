/**
 * A new version's start applies its pending migrations: the schema of a
 * deployment that holds data changes with no operator at the command line,
 * so the start itself is recorded, as `schema_migrated` by
 * `system`/`startup` with the files applied, by the process that applied
 * them (under `npm start`, ClickHouse's by the worker process that owns
 * the store, PostgreSQL's by whichever process took its migration lock first;
 * a process running only the scheduler sends its event through the ingest
 * queue). The first start on an empty database
 * creates the schema and has no trail yet to record it in; a start with
 * nothing pending records nothing.
 */
import { Client } from 'pg';
import { openClickHouse } from '../../src/lib/clickhouse';
import { migrationFiles } from '../../src/lib/clickhouse-migrations';
import { postgresMigrationFiles } from '../../src/lib/pg-migrations';
import { spawnAuditflow } from '../helpers/child';
import { queryRows, startStack } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('startupmigrations');
const NEWEST_PG = postgresMigrationFiles().at(-1)!;
const NEWEST_CLICKHOUSE = migrationFiles().at(-1)!;
let stack: Awaited<ReturnType<typeof startStack>> | undefined;

afterAll(async () => {
  await stack?.stop();
  await ns.cleanup();
});

interface StartupEvent {
  triggered_by_type: string;
  triggered_by_id: string;
  operation_status: string;
  next: { postgresql: string[]; clickhouse: string[]; applied: number; up_to_date: boolean };
  metadata: { roles: string[]; pid: number };
}

const startupEvents = async (): Promise<StartupEvent[]> =>
  (
    await queryRows<Omit<StartupEvent, 'next' | 'metadata'> & { next: string; metadata: string }>(
      stack!.clickhouse!,
      `SELECT triggered_by_type, triggered_by_id, operation_status, toJSONString(new_value) AS next, toJSONString(metadata) AS metadata
         FROM audit_logs WHERE event_type = 'schema_migrated' ORDER BY occurred_at`,
    )
  ).map((r) => ({ ...r, next: JSON.parse(r.next), metadata: JSON.parse(r.metadata) }));

async function npmStart(env: Record<string, string> = {}): Promise<void> {
  const server = await spawnAuditflow(ns.env({ FLUSH_MAX_AGE_MS: '100', ...env }), 60_000);
  server.child.kill('SIGTERM');
  expect(await server.exited).toEqual({ code: 0, signal: null });
}

/** As if the installed version predated the newest migration of each database (both are safe to apply again). */
async function forgetNewestPostgresMigration(): Promise<void> {
  const pg = new Client({ connectionString: ns.databaseUrl });
  await pg.connect();
  await pg.query('DELETE FROM schema_migrations WHERE version = $1', [NEWEST_PG]);
  await pg.end();
}

async function forgetNewestMigrations(): Promise<void> {
  await forgetNewestPostgresMigration();
  const clickhouse = await openClickHouse(ns.config().clickhouse);
  await clickhouse.command({ query: 'ALTER TABLE schema_migrations DELETE WHERE version = {v:String}', query_params: { v: NEWEST_CLICKHOUSE }, clickhouse_settings: { mutations_sync: '2' } });
  await clickhouse.close();
}

it('npm start on an upgraded install records the migrations it applied, each by the process that applied it; a first install and a start with nothing pending record nothing', async () => {
  await npmStart();
  await forgetNewestMigrations();
  await npmStart();

  // Started again, with nothing pending: it reads the store, and applies nothing.
  stack = await startStack(ns, { FLUSH_MAX_AGE_MS: '100' });
  const events = await eventually(async () => {
    const found = await startupEvents();
    return found.some((e) => e.next.postgresql.length > 0) && found.some((e) => e.next.clickhouse.length > 0) && found;
  }, 30_000);
  for (const event of events) {
    expect(event).toMatchObject({ triggered_by_type: 'system', triggered_by_id: 'startup', operation_status: 'SUCCESS' });
    expect(event.next.applied).toBe(event.next.postgresql.length + event.next.clickhouse.length);
    expect(event.next.up_to_date).toBe(false);
  }
  // PostgreSQL's by whichever of the two processes took its migration lock first; ClickHouse's where the store is owned.
  expect(events.flatMap((e) => e.next.postgresql)).toEqual([NEWEST_PG]);
  expect(events.flatMap((e) => e.next.clickhouse)).toEqual([NEWEST_CLICKHOUSE]);
  expect(events.find((e) => e.next.clickhouse.length > 0)!.metadata.roles).toEqual(['worker']);
  expect(events.find((e) => e.next.postgresql.length > 0)!.metadata.roles).toEqual(expect.arrayContaining([expect.stringMatching(/^(api|worker)$/)]));

  // Neither the first install nor this last start added one (given time to: events are flushed within 100 ms).
  await new Promise((r) => setTimeout(r, 1000));
  expect(await startupEvents()).toHaveLength(events.length);
}, 180_000);

it('a process running only the scheduler, first to start after an upgrade, records what it applied through the ingest queue', async () => {
  const before = (await startupEvents()).length;
  await forgetNewestPostgresMigration();
  await npmStart({ ROLE: 'scheduler' });
  // The running stack's worker writes it.
  const event = await eventually(async () => (await startupEvents()).slice(before)[0], 30_000);
  expect(event).toMatchObject({ triggered_by_type: 'system', triggered_by_id: 'startup', operation_status: 'SUCCESS', next: { postgresql: [NEWEST_PG], clickhouse: [] } });
  expect(event.metadata.roles).toEqual(['scheduler']);
}, 120_000);

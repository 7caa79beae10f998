import fs from 'node:fs';
import path from 'node:path';
import { openClickHouse, type ClickHouseClient } from '../../src/lib/clickhouse';
import { clusterStatements } from '../../src/lib/clickhouse-cluster';
import { CLICKHOUSE_MIGRATIONS_DIR, migrateClickHouse, migrationFiles, migrationStatements, SCHEMA_MIGRATIONS } from '../../src/lib/clickhouse-migrations';
import { parseWithClickHouse } from '../../src/features/analyst/clickhouse-parser';
import { queryRows } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('chcluster');
const CLUSTER = 'auditflow_cluster';
let clickhouse: ClickHouseClient;

beforeAll(async () => {
  clickhouse = await openClickHouse(ns.config().clickhouse);
});
afterAll(async () => {
  await clickhouse.close();
  await ns.cleanup();
});

const clustered = [
  ...migrationStatements(SCHEMA_MIGRATIONS, CLUSTER).map((statement) => ({ file: 'schema_migrations', statement })),
  ...migrationFiles().flatMap((file) => migrationStatements(fs.readFileSync(path.join(CLICKHOUSE_MIGRATIONS_DIR, file), 'utf8'), CLUSTER).map((statement) => ({ file, statement }))),
];

interface Column {
  table: string;
  name: string;
  type: string;
  default_kind: string;
  default_expression: string;
}

/** Every column of every table and view, tables named as on one node (`t_local` → `t`). */
async function columnsOf(database: string): Promise<Column[]> {
  const rows = await queryRows<Column & { position: number }>(clickhouse, `SELECT table, name, type, default_kind, default_expression, position FROM system.columns WHERE database = {d:String}`, {
    d: database,
  });
  return rows
    .map(({ position, ...c }) => ({ ...c, table: c.table.replace(/_local$/, ''), position }))
    .sort((a, b) => a.table.localeCompare(b.table) || a.position - b.position)
    .map(({ position: _p, ...c }) => c);
}

describe('the cluster variant of the ClickHouse migrations', () => {
  it('has a statement for every single-node statement, each run ON CLUSTER, and ClickHouse parses every one', async () => {
    expect(clustered.length).toBeGreaterThan(40);
    for (const { file, statement } of clustered) {
      const parsed = await parseWithClickHouse(clickhouse, statement).catch((error: Error) => {
        throw new Error(`${file}: ${error.message}\n${statement}`);
      });
      expect(parsed.canonical).toContain(`ON CLUSTER ${CLUSTER}`);
    }
  });

  it('replicates every table, and puts a Distributed table under the single-node name over it', () => {
    const creates = clustered.map((c) => c.statement).filter((s) => s.startsWith('CREATE TABLE'));
    const locals = creates.filter((s) => /^CREATE TABLE IF NOT EXISTS \w+_local /.test(s));
    const distributed = creates.filter((s) => /ENGINE = Distributed\(/.test(s));
    expect(locals.length).toBe(distributed.length);
    for (const local of locals) expect(local).toMatch(/ENGINE = Replicated\w*MergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\w+_local', '\{replica\}'/);
    for (const d of distributed) {
      const [, name] = /^CREATE TABLE IF NOT EXISTS (\w+) /.exec(d)!;
      expect(d).toContain(`AS ${name}_local`);
      expect(d).toMatch(new RegExp(`Distributed\\(${CLUSTER}, currentDatabase\\(\\), ${name}_local, cityHash64\\(\\w+\\)\\)`));
    }
    // Events are sharded by their id: a retried block splits the same way, and each shard drops its repeat.
    expect(distributed.find((d) => d.includes(' audit_logs ON CLUSTER'))).toContain('cityHash64(event_id)');
  });

  it('gives each shard the same tables, columns, types and defaults as one node, and alters both halves', async () => {
    await clickhouse.command({ query: 'CREATE DATABASE IF NOT EXISTS single_node' });
    await clickhouse.command({ query: 'CREATE DATABASE IF NOT EXISTS shard' });
    await clickhouse.command({ query: 'USE single_node' });
    await migrateClickHouse(clickhouse);
    // chDB has no Keeper and no cluster, so the shard's half runs here as what it is on one replica:
    // the plain engine of each Replicated one, without ON CLUSTER. The Distributed tables cannot be
    // created here; they are `AS <table>_local`, and every ALTER of one must be the same as its local twin's.
    await clickhouse.command({ query: 'USE shard' });
    const alters = new Map<string, string[]>();
    for (const { statement } of clustered) {
      if (/ENGINE = Distributed\(/.test(statement)) continue;
      const alter = /^ALTER TABLE (\w+) ON CLUSTER \w+ ([\s\S]*)$/.exec(statement);
      // A view's query changes on every shard, like its CREATE.
      if (alter && !alter[2]!.startsWith('MODIFY QUERY')) {
        alters.set(alter[1]!, [...(alters.get(alter[1]!) ?? []), alter[2]!]);
        if (!alter[1]!.endsWith('_local')) continue;
      }
      const onOneReplica = statement.replace(` ON CLUSTER ${CLUSTER}`, '').replace(/Replicated(\w*MergeTree)\('[^']*', '\{replica\}'(?:, )?/, '$1(');
      await clickhouse.command({ query: onOneReplica });
    }
    // Columns change on both halves; a projection and a sorting key belong to the storage table alone.
    const columnChanges = (changes: string[] | undefined) => (changes ?? []).filter((change) => change.startsWith('ADD COLUMN')).map((change) => change.replace(/,\s*MODIFY ORDER BY \([^()]*\)$/, ''));
    for (const [table, changes] of alters) if (!table.endsWith('_local')) expect(changes).toEqual(columnChanges(alters.get(`${table}_local`)));
    const projections = (db: string) =>
      queryRows<{ table: string; name: string }>(clickhouse, `SELECT replaceRegexpOne(table, '_local$', '') AS table, name FROM system.projections WHERE database = {d:String} ORDER BY table, name`, {
        d: db,
      });
    expect((await projections('single_node')).length).toBeGreaterThan(0);
    expect(await projections('shard')).toEqual(await projections('single_node'));
    // Skip indexes too, in the same order (the order they are declared is the order they apply), the receipt-time one first.
    const indexes = (db: string) =>
      queryRows<{ table: string; names: string[] }>(
        clickhouse,
        `SELECT replaceRegexpOne(table, '_local$', '') AS table, groupArray(name) AS names FROM system.data_skipping_indices WHERE database = {d:String} GROUP BY table ORDER BY table`,
        { d: db },
      );
    expect((await indexes('single_node')).filter((i) => i.names[0] === 'idx_received_at')).toHaveLength(8);
    expect(await indexes('shard')).toEqual(await indexes('single_node'));

    const single = await columnsOf('single_node');
    expect(single.length).toBeGreaterThan(150);
    expect(await columnsOf('shard')).toEqual(single);
    const views = (db: string) =>
      queryRows<{ name: string; engine: string }>(clickhouse, `SELECT name, engine FROM system.tables WHERE database = {d:String} AND engine = 'MaterializedView' ORDER BY name`, { d: db });
    expect(await views('shard')).toEqual(await views('single_node'));
    expect((await views('shard')).length).toBeGreaterThan(5);
    await clickhouse.command({ query: `USE ${ns.config().clickhouse.database}` });
  });

  it("extends a sorting key on the storage table alone, and changes a view's query on every shard", () => {
    expect(clusterStatements('ALTER TABLE t ADD COLUMN IF NOT EXISTS c String, MODIFY ORDER BY (a, c)', CLUSTER)).toEqual([
      `ALTER TABLE t_local ON CLUSTER ${CLUSTER} ADD COLUMN IF NOT EXISTS c String, MODIFY ORDER BY (a, c)`,
      `ALTER TABLE t ON CLUSTER ${CLUSTER} ADD COLUMN IF NOT EXISTS c String`,
    ]);
    expect(clusterStatements('ALTER TABLE v MODIFY QUERY SELECT a, count() AS n FROM t GROUP BY a', CLUSTER)).toEqual([
      `ALTER TABLE v ON CLUSTER ${CLUSTER} MODIFY QUERY SELECT a, count() AS n FROM t_local GROUP BY a`,
    ]);
  });

  it('adds and builds a skip index on the storage table alone', () => {
    expect(clusterStatements('ALTER TABLE t ADD INDEX IF NOT EXISTS i c TYPE minmax GRANULARITY 1 FIRST', CLUSTER)).toEqual([
      `ALTER TABLE t_local ON CLUSTER ${CLUSTER} ADD INDEX IF NOT EXISTS i c TYPE minmax GRANULARITY 1 FIRST`,
    ]);
    expect(clusterStatements('ALTER TABLE t MATERIALIZE INDEX i', CLUSTER)).toEqual([`ALTER TABLE t_local ON CLUSTER ${CLUSTER} MATERIALIZE INDEX i`]);
  });

  it('refuses a statement it has no cluster variant for, instead of leaving it out', () => {
    expect(() => clusterStatements('ALTER TABLE audit_logs DROP COLUMN metadata', CLUSTER)).toThrow(/no cluster variant/);
    expect(() => clusterStatements('CREATE VIEW v AS SELECT 1', CLUSTER)).toThrow(/no cluster variant/);
  });
});

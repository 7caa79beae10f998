/**
 * The cluster variant of the ClickHouse migrations, derived statement by
 * statement from the single-node files in clickhouse/, so the two cannot
 * drift apart (test/lib/clickhouse-cluster.test.ts checks the result).
 *
 * For a cluster named C (CLICKHOUSE_CLUSTER), every statement runs ON CLUSTER C:
 *   CREATE TABLE t (...) ENGINE = XMergeTree ...
 *     → t_local: ReplicatedXMergeTree('/clickhouse/tables/{shard}/{database}/t_local', '{replica}'),
 *       the same columns, keys and settings (the deduplication window becomes the replicated one);
 *     → t: Distributed(C, currentDatabase(), t_local, <sharding key>) AS t_local,
 *       which the application reads and writes under the same name as on one node.
 *   CREATE MATERIALIZED VIEW v TO target AS SELECT … FROM source
 *     → on every shard, reading source_local into target_local.
 *   ALTER TABLE t ADD COLUMN …  → the same on t_local and on t.
 *   ALTER TABLE t ADD COLUMN c …, MODIFY ORDER BY (…, c)  → all of it on t_local,
 *     the ADD COLUMN alone on t: a Distributed table has no sorting key.
 *   ALTER TABLE v MODIFY QUERY SELECT … FROM source  → the view on every shard,
 *     reading source_local, as its CREATE.
 *   ALTER TABLE t ADD / MATERIALIZE PROJECTION …, ADD / MATERIALIZE INDEX …  → on t_local
 *     only: projections and skip indexes belong to the storage table, and a
 *     Distributed table has none.
 * A statement of any other shape is refused, so a new migration cannot be
 * silently left out of the cluster variant.
 */

const CREATE_TABLE = /^CREATE TABLE IF NOT EXISTS (\w+)\s*(\([\s\S]*\))\s*ENGINE = (\w*MergeTree)\b(\([^)]*\))?([\s\S]*)$/;
const CREATE_VIEW = /^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+) AS\s+([\s\S]*)$/;
const ALTER_TABLE = /^ALTER TABLE (\w+)\s+([\s\S]*)$/;

/** The shard a row goes to: an event by its id, so a retried block splits the same way and is deduplicated on its shard. */
export function shardingKey(columns: string, orderBy: string): string {
  if (/^\s*event_id UUID,/m.test(columns)) return 'cityHash64(event_id)';
  const first = /^\(?\s*([A-Za-z_]\w*)/.exec(orderBy.trim())?.[1];
  if (!first) throw new Error(`no sharding key: ORDER BY ${orderBy}`);
  return `cityHash64(${first})`;
}

/** One single-node statement as the statements of its cluster variant. */
export function clusterStatements(statement: string, cluster: string): string[] {
  const on = `ON CLUSTER ${cluster}`;
  const table = CREATE_TABLE.exec(statement);
  if (table) {
    const [, name, columns, engine, args, rest] = table as unknown as [string, string, string, string, string | undefined, string];
    const inner = args?.slice(1, -1).trim();
    const path = `'/clickhouse/tables/{shard}/{database}/${name}_local', '{replica}'`;
    const replicated = `Replicated${engine}(${path}${inner ? `, ${inner}` : ''})`;
    const orderBy = /ORDER BY ([^\n]+)/.exec(rest)?.[1];
    if (!orderBy) throw new Error(`CREATE TABLE ${name} has no ORDER BY`);
    return [
      `CREATE TABLE IF NOT EXISTS ${name}_local ${on}\n${columns}\nENGINE = ${replicated}${rest.replace(/\bnon_replicated_deduplication_window\b/g, 'replicated_deduplication_window')}`,
      `CREATE TABLE IF NOT EXISTS ${name} ${on} AS ${name}_local\nENGINE = Distributed(${cluster}, currentDatabase(), ${name}_local, ${shardingKey(columns, orderBy)})`,
    ];
  }
  const view = CREATE_VIEW.exec(statement);
  if (view) {
    const [, name, target, select] = view as unknown as [string, string, string, string];
    const sources = [...select.matchAll(/\bFROM (\w+)/g)];
    if (sources.length !== 1 || /\bJOIN\b/i.test(select)) throw new Error(`materialized view ${name}: expected one source table`);
    return [`CREATE MATERIALIZED VIEW IF NOT EXISTS ${name} ${on} TO ${target}_local AS\n${select.replace(/\bFROM (\w+)/, 'FROM $1_local')}`];
  }
  const alter = ALTER_TABLE.exec(statement);
  if (alter && /^ADD COLUMN IF NOT EXISTS /.test(alter[2]!)) {
    const [, name, change] = alter as unknown as [string, string, string];
    const sortingKey = /^([\s\S]*?),\s*MODIFY ORDER BY \([^()]*\)$/.exec(change);
    return [`ALTER TABLE ${name}_local ${on} ${change}`, `ALTER TABLE ${name} ${on} ${sortingKey ? sortingKey[1] : change}`];
  }
  if (alter && /^MODIFY QUERY\s/.test(alter[2]!)) {
    const [, name, change] = alter as unknown as [string, string, string];
    const sources = [...change.matchAll(/\bFROM (\w+)/g)];
    if (sources.length !== 1 || /\bJOIN\b/i.test(change)) throw new Error(`materialized view ${name}: expected one source table`);
    return [`ALTER TABLE ${name} ${on} ${change.replace(/\bFROM (\w+)/, 'FROM $1_local')}`];
  }
  if (alter && /^(ADD PROJECTION IF NOT EXISTS|MATERIALIZE PROJECTION|ADD INDEX IF NOT EXISTS|MATERIALIZE INDEX) /.test(alter[2]!)) {
    const [, name, change] = alter as unknown as [string, string, string];
    return [`ALTER TABLE ${name}_local ${on} ${change}`];
  }
  throw new Error(`no cluster variant for this statement (extend src/lib/clickhouse-cluster.ts): ${statement.slice(0, 120)}`);
}

import fs from 'node:fs';
import path from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { clickHouseJson } from './clickhouse-json-text';
import { StoreLockedError } from './errors/store-locked-error';

/** Where ClickHouse is: the embedded chDB store (the default), or a server (CLICKHOUSE_URL). */
export type ClickHouseConfig = { mode: 'embedded'; path: string; database: string } | { mode: 'server'; url: string; user: string; password: string; database: string; cluster?: string };

export type { ClickHouseClient };

type ChdbConnection = ReturnType<typeof import('chdb/connection').createChdbConnection>;
/** The chDB connection under each client of an embedded store, for what only chDB offers (raw inserts). */
const embeddedConnections = new WeakMap<ClickHouseClient, ChdbConnection>();

/** The chDB connection under a client opened on the embedded store; undefined for a server's client. */
export function embeddedConnection(client: ClickHouseClient): ChdbConnection | undefined {
  return embeddedConnections.get(client);
}

/** PID of the live process holding the embedded store, if any (ClickHouse writes it to `status`). */
export function embeddedStoreOwner(storePath: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(storePath, 'status'), 'utf8');
  } catch {
    return null;
  }
  const pid = Number(/PID:\s*(\d+)/.exec(text)?.[1]);
  if (!pid || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: alive but not ours to signal; ESRCH: a stale file from a crashed process.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

/** The cluster the migrations and retention address ON CLUSTER, if any (CLICKHOUSE_CLUSTER). */
export function clickHouseCluster(config: ClickHouseConfig): string | undefined {
  return config.mode === 'server' ? config.cluster : undefined;
}

/**
 * Opens ClickHouse: the embedded chDB engine at the configured path, or a
 * server when CLICKHOUSE_URL is set. Either way callers get the same client,
 * so every query is the same SQL in both modes.
 */
export async function openClickHouse(config: ClickHouseConfig): Promise<ClickHouseClient> {
  if (config.mode === 'server') {
    const client = createClient({
      url: config.url,
      username: config.user,
      password: config.password,
      request_timeout: 60_000,
      clickhouse_settings: { date_time_input_format: 'best_effort' },
    });
    // On a cluster, on every node: the migrations' ON CLUSTER statements need the database everywhere.
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.database}${config.cluster ? ` ON CLUSTER ${config.cluster}` : ''}` });
    await client.close();
    return createClient({
      url: config.url,
      username: config.user,
      password: config.password,
      database: config.database,
      request_timeout: 60_000,
      // Inserted rows' text: integers past 64 bits in exponent form, which simdjson reads.
      json: { parse: JSON.parse, stringify: clickHouseJson },
      // On a cluster, an INSERT into a Distributed table returns once the shards hold the rows, so the
      // writer's checks (is this row there? are all of a seal's rows there?) see what it wrote.
      ...(config.cluster ? { clickhouse_settings: { distributed_foreground_insert: 1 } } : {}),
    });
  }

  const owner = embeddedStoreOwner(config.path);
  if (owner) throw new StoreLockedError(config.path, owner);
  fs.mkdirSync(config.path, { recursive: true });
  // Loaded lazily: the native engine is large and only the store's owner needs it.
  const { createChdbConnection } = await import('chdb/connection');
  let connection: ReturnType<typeof createChdbConnection>;
  try {
    connection = createChdbConnection({ path: config.path });
  } catch (error) {
    if (/Cannot lock file|Failed to create connection/.test(String(error))) {
      throw new StoreLockedError(config.path, embeddedStoreOwner(config.path));
    }
    throw error;
  }
  const client = createClient({ connection, json: { parse: JSON.parse, stringify: clickHouseJson } } as Parameters<typeof createClient>[0]);
  embeddedConnections.set(client, connection);
  // The chDB session keeps `USE` for its lifetime, so unqualified table names resolve here.
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.database}` });
  await client.command({ query: `USE ${config.database}` });
  return client;
}

/** Whether a ClickHouse failure is worth retrying (network, overload) rather than a bad row. */
export function isTransientClickHouseError(error: unknown): boolean {
  const e = error as { code?: string; type?: string; message?: string };
  const transientTypes = new Set([
    'TOO_MANY_PARTS',
    'TOO_MANY_SIMULTANEOUS_QUERIES',
    'TIMEOUT_EXCEEDED',
    'SOCKET_TIMEOUT',
    'NETWORK_ERROR',
    'MEMORY_LIMIT_EXCEEDED',
    'TABLE_IS_READ_ONLY',
    'KEEPER_EXCEPTION',
    'ALL_CONNECTION_TRIES_FAILED',
    'UNKNOWN_TABLE',
    'UNKNOWN_DATABASE',
    'ABORTED',
    // A full disk is not the rows' fault: they wait for space. Judged as content, a batch went to poison
    // isolation, whose CREATE of the probe table then left an empty metadata file that the store could not reopen.
    'NOT_ENOUGH_SPACE',
    'CANNOT_WRITE_TO_FILE_DESCRIPTOR',
    'CANNOT_FSYNC',
    'CANNOT_WRITE_TO_OSTREAM',
  ]);
  if (e?.type && transientTypes.has(e.type)) return true;
  if (e?.code && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN)$/.test(e.code)) return true;
  if (/timeout|socket hang up|ECONNREFUSED|ECONNRESET|closed|not enough space|No space left on device|Disk quota exceeded/i.test(e?.message ?? '')) return true;
  // No ClickHouse error code at all means the failure happened before ClickHouse judged the data.
  return !e?.type;
}

/** For /readyz: resolves when ClickHouse answers. (client.ping() resolves { success: false } rather than throwing.) */
export async function checkClickHouse(client: ClickHouseClient): Promise<void> {
  const result = await client.ping();
  if (!result.success) throw result.error;
}

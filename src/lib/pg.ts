import { Client, Pool, type PoolClient } from 'pg';
import { AppError } from './errors/app-error';
import type { Logger } from './logger';

/**
 * Creates the database named in `databaseUrl` when it does not exist yet,
 * by connecting to the server's `postgres` maintenance database.
 */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  // A client that loses its server emits 'error'; without a listener that ends the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      } catch (error) {
        // Another process created it between our check and our CREATE.
        if ((error as { code?: string }).code !== '42P04') throw error;
      }
    }
  } finally {
    await client.end();
  }
}

/**
 * A pool that survives its server going away. An idle pooled client whose
 * connection is ended (a restart: 57P01) emits 'error' on the pool, which
 * without a listener ends the process; the pool already drops that client,
 * and the next query opens a new connection, so logging is all that is left.
 * A checked-out client that loses its connection is heard too (see below).
 * `connectionTimeoutMillis` keeps a query from waiting without end for a
 * server that does not accept connections; `queryTimeoutMs`, for one that
 * keeps them open and answers nothing (a frozen host, a partition).
 */
export function createPgPool(databaseUrl: string, max = 10, logger?: Logger, options: { queryTimeoutMs?: number } = {}): Pool {
  const pool = new Pool({ connectionString: databaseUrl, max, connectionTimeoutMillis: 5000, ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}) });
  let lastLogged = -Infinity;
  pool.on('error', (error) => {
    // One line per outage-ish interval, not one per pooled client.
    if (performance.now() - lastLogged < 10_000) return;
    lastLogged = performance.now();
    logger?.warn({ err: error }, 'PostgreSQL connection lost; the pool reconnects on the next query');
  });
  // pg-pool listens for a client's 'error' only while it is idle. One checked out between two queries
  // (a transaction hashing a password, a report being built under its chain lock) that loses its
  // connection would emit it unheard and end the process; its next query fails instead, and the pool
  // drops it on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** SQLSTATEs of a server that is going away or not yet accepting: admin/crash shutdown, cannot connect now. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Whether a pg error means "the server cannot be reached right now", as opposed to a bad query. */
export function isPgUnavailable(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | undefined;
  if (!e) return false;
  if (e.code && (UNAVAILABLE_SQLSTATES.has(e.code) || UNAVAILABLE_ERRNOS.has(e.code))) return true;
  // pg's own wording when a connection ends under a query, or the pool's connect timeout.
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i.test(e.message ?? '');
}

/** Seconds a client is told to wait while PostgreSQL is unreachable: about a restart's length. */
export const PG_RETRY_AFTER_SECONDS = 5;

/** The one AppError for "PostgreSQL is unreachable": 503 with Retry-After. */
export function pgUnavailableError(cause: unknown): AppError {
  return new AppError('UNAVAILABLE', 'the database is unavailable; retry shortly', { retryAfterSeconds: PG_RETRY_AFTER_SECONDS, cause });
}

/**
 * Runs `work` in one transaction: COMMIT when it resolves, ROLLBACK when it
 * throws (the error goes on to the caller). Given the pool, it checks out a
 * client for the transaction and always releases it; given a client already
 * checked out (one holding a session lock), it runs on that client and leaves
 * releasing it to the caller.
 */
export async function withTransaction<T>(db: Pool | PoolClient, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = 'release' in db ? db : await db.connect();
  const owned = client !== db;
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // A connection whose server answers nothing is closed, not handed to the next caller behind its stuck query.
    if (isPgUnavailable(error)) broken = error as Error;
    // A failed ROLLBACK (the connection is gone) must not hide why the work failed.
    else await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    if (owned) client.release(broken);
  }
}

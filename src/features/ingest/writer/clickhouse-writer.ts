import type { Logger } from '../../../lib/logger';
import { isTransientClickHouseError, type ClickHouseClient } from '../../../lib/clickhouse';
import type { RedisLock } from '../../../lib/redis-lock';
import type { ClickHouseRow } from '../../../domain/event-row';
import type { ChainSealer, SealedRows } from '../../integrity/chain-sealer';
import { rowHashes } from '../../../domain/seal';
import { WriterHealth } from './writer-health';
import type { DeadLetter, DeadLetterRepository } from '../dead-letters/dead-letter.repository';
import { insertRejected, rowDeadLetter } from './row-dead-letter';
import { addSealed, identities, oldestReceivedAt, withoutStored } from './flush-rows';
import type { FlushRun, FlushSteps } from './flush-run';
import { storedHashes } from './stored-rows-query';
import { insertBatch } from './batch-insert';
import { isolatePoison, probeTable, type PoisonedRow } from './poison-rows';
import { rowIdentity } from './row-identity';

export interface ClickHouseWriterOptions {
  /** Flush a table when it holds this many rows (FLUSH_MAX_ROWS). Default 5,000. */
  maxRows: number;
  /** Flush a table when its oldest row has waited this long. Default 500 ms (FLUSH_MAX_AGE_MS). */
  maxAgeMs: number;
  /**
   * Flush a table when this many writes (each one job's rows) wait in it.
   * A job keeps its worker slot until its rows are written: without this,
   * many small jobs waiting out `maxAgeMs` fill every slot, and the queue
   * ages while the CPU idles. Default: no such limit.
   */
  maxWrites?: number;
  /** How far back, in receipt time, a flush looks for copies of its rows (WRITER_LOOKBACK_MINUTES). Default 30. */
  lookbackMinutes?: number;
  logger: Logger;
  /** Serialises check-then-insert per table across processes (needed with a shared ClickHouse server). */
  lock?: RedisLock;
  /** Delays between in-process retries of a transient insert failure, before the job itself is retried. */
  retryDelaysMs?: number[];
  /** Seals each flush into the table's hash chain (tamper evidence). */
  sealer?: ChainSealer;
  /** Called when a table's flush succeeds after its flushes had failed: the jobs in backoff may be retried now. */
  onRecovered?: (table: string) => void;
  /** Called after every successful flush, for metrics. `oldestReceivedAt`: received_at (ms since the epoch) of the oldest row inserted. */
  onFlush?: (stats: { table: string; rows: number; written: number; skipped: number; deadLettered: number; ms: number; oldestReceivedAt?: number }) => void;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface TableBuffer {
  rows: ClickHouseRow[];
  waiters: Waiter[];
  timer?: NodeJS.Timeout;
}

/**
 * Buffers rows per table and writes each table in large batches, one
 * INSERT per flush. `write()` resolves only when its rows are durably in
 * ClickHouse (or, for rows ClickHouse rejects, in dead_letter_events), so a
 * job completes only after its rows are written.
 *
 * Exactly once, as queries see it. A row can reach a flush twice: the job is
 * retried after a crash or a failed flush of another table, or a client
 * reposts an event_id after the API's idempotency window. Each flush
 * therefore, under a per-table lock:
 *   1. drops repeats inside the batch;
 *   2. asks ClickHouse which (source_app, event_id) pairs it already holds
 *      among the rows received within `lookbackMinutes` before them, or
 *      carrying the same occurred_at at any age (storedRowsQueries), and
 *      drops those: the minmax index on received_at, the month partitions
 *      and the bloom-filter index on event_id keep the cost with the load,
 *      not the table's size;
 *   3. inserts the rest with `insert_deduplication_token` = hash of the ids,
 *      so if the INSERT succeeded but its answer was lost, the retry of the
 *      same block is discarded by ClickHouse itself
 *      (`non_replicated_deduplication_window` on every table).
 * Flushes of a table insert one at a time, in order. When this process is
 * the table's only writer (no lock: the embedded store), a flush's check (2)
 * runs while the flushes before it insert, is completed by the rows the two
 * before it sealed, and it seals its own rows after them (the pending seal's
 * commit waits on the disk behind ClickHouse's writes). It inserts once the
 * flush before has stored what it sealed, and finalizes once that one ended.
 * If it did not (a failure, or a poison row cost it its seal), the check is
 * asked again and the rows sealed again; the stale pending seal holds no
 * rows and is dropped when the chain is settled. With a lock (a shared server), a flush waits
 * for the one before to end, since another process may insert in between.
 * An event's identity is (source_app, event_id): two apps may choose the same
 * id, and each is stored. Plain MergeTree, so
 * `count() = uniqExact(source_app, event_id)` holds for every query, with no
 * FINAL and no read rule. An event that arrives again from its app with other
 * content is not dropped silently: it goes to dead letters as a conflict.
 */
export class ClickHouseWriter {
  private readonly buffers = new Map<string, TableBuffer>();
  /**
   * Per table, its latest flush while it runs: the next flush's duplicate check
   * waits on it, and its end is the end of every earlier flush of the table.
   */
  private readonly latestRuns = new Map<string, FlushRun>();
  private closed = false;
  /** Last success and the current run of failures, for /readyz, /metrics and ingest admission. */
  readonly health = new WriterHealth();

  constructor(
    private readonly clickhouse: ClickHouseClient,
    private readonly deadLetters: DeadLetterRepository,
    private readonly options: ClickHouseWriterOptions,
  ) {}

  /** Buffers rows for a table; resolves when they have been flushed. */
  write(table: string, rows: ClickHouseRow[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('ClickHouse writer is closed'));
    if (rows.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let buffer = this.buffers.get(table);
      if (!buffer) {
        buffer = { rows: [], waiters: [] };
        this.buffers.set(table, buffer);
      }
      for (const row of rows) buffer.rows.push(row);
      buffer.waiters.push({ resolve, reject });
      if (buffer.rows.length >= this.options.maxRows || buffer.waiters.length >= (this.options.maxWrites ?? Number.POSITIVE_INFINITY)) void this.flush(table);
      else buffer.timer ??= setTimeout(() => this.flushAged(table, buffer), this.options.maxAgeMs);
    });
  }

  /**
   * The age limit of `buffer` has passed. If the table's previous flush is
   * still running, the buffer keeps filling until it ends (group commit):
   * cutting it now would queue a small flush behind it each `maxAgeMs`, and
   * since every flush has a fixed cost, an overloaded writer would write ever
   * smaller batches (measured: 7 rows a flush with 400 jobs waiting).
   */
  private flushAged(table: string, buffer: TableBuffer): void {
    if (this.buffers.get(table) !== buffer) return; // already flushed for its size
    const running = this.latestRuns.get(table);
    if (running) void running.inserted.then(() => this.flushAged(table, buffer));
    else void this.flush(table);
  }

  /** Flushes every table now; resolves when all flushes have finished. */
  async flushAll(): Promise<void> {
    await Promise.all([...this.buffers.keys()].map((table) => this.flush(table)));
    await Promise.all([...this.latestRuns.values()].map((run) => run.inserted));
  }

  /** Flushes what is buffered and refuses further writes. */
  async close(): Promise<void> {
    await this.flushAll();
    this.closed = true;
  }

  /**
   * Deletes the rows of a table's seals 1..upTo: retention's prune, once its
   * signed record is in integrity_prunes. The only way event rows leave
   * ClickHouse; returns when the mutation has finished. With a cluster the
   * rows live in each shard's `<table>_local`, which is where it must run.
   */
  async deleteSealedUpTo(table: string, upTo: number, cluster?: string): Promise<void> {
    await this.clickhouse.command({
      query: `ALTER TABLE ${cluster ? `${table}_local ON CLUSTER ${cluster}` : table} DELETE WHERE seal_seq > 0 AND seal_seq <= {s:UInt64}`,
      query_params: { s: upTo },
      clickhouse_settings: { mutations_sync: '2' },
    });
  }

  bufferedRows(): number {
    let n = 0;
    for (const b of this.buffers.values()) n += b.rows.length;
    return n;
  }

  private flush(table: string): Promise<void> {
    const buffer = this.buffers.get(table);
    if (!buffer || buffer.rows.length === 0) return this.latestRuns.get(table)?.inserted.then(() => undefined) ?? Promise.resolve();
    this.buffers.delete(table);
    if (buffer.timer) clearTimeout(buffer.timer);
    const previous = this.latestRuns.get(table);
    let checked!: () => void;
    const ownCheck = new Promise<void>((resolve) => (checked = resolve));
    let announce!: (rows: Map<string, string> | undefined) => void;
    const sealed = new Promise<Map<string, string> | undefined>((resolve) => (announce = resolve));
    let stored!: (asSealed: boolean) => void;
    const storedAsSealed = new Promise<boolean>((resolve) => (stored = resolve));
    const steps = { checked, announce, stored };
    const outcome = (async (): Promise<Map<string, string> | undefined> => {
      try {
        let result: Map<string, string>;
        if (this.options.lock) {
          await previous?.inserted;
          result = await this.options.lock.withLock(`flush:${table}`, () => this.writeUnique(table, buffer.rows, steps));
        } else {
          await previous?.successorMayCheck;
          result = await this.writeUnique(table, buffer.rows, steps, previous);
        }
        if (this.health.succeeded(table)) this.options.onRecovered?.(table);
        for (const w of buffer.waiters) w.resolve();
        return result;
      } catch (error) {
        checked();
        announce(undefined);
        stored(false);
        this.health.failed(table, error);
        this.options.logger.error({ err: error, table, rows: buffer.rows.length }, 'ClickHouse flush failed; its jobs will be retried');
        for (const w of buffer.waiters) w.reject(error);
        return undefined;
      }
    })();
    // Ended only once the flush before has ended too, even if this one failed early (in its check):
    // the next flush then never inserts while an earlier one still does, and close() waits for all.
    const inserted = Promise.all([outcome, previous?.inserted]).then(([result]) => result);
    // The next flush checks once this one has checked, the one before has sealed, and the rows before
    // that one are stored as sealed (or it has ended): it completes its check by the two sets sealed.
    const rowsBeforeStored = previous?.stored.then((asSealed) => (asSealed ? undefined : previous.inserted)).then(() => undefined) ?? Promise.resolve();
    const run: FlushRun = {
      inserted,
      sealed,
      stored: storedAsSealed,
      sealedBefore: previous?.sealed,
      rowsBeforeStored,
      successorMayCheck: Promise.all([ownCheck, previous?.sealed, previous?.rowsBeforeStored]).then(() => undefined),
    };
    this.latestRuns.set(table, run);
    const next = inserted.then(() => undefined);
    void next.then(() => {
      if (this.latestRuns.get(table) === run) this.latestRuns.delete(table);
    });
    return next;
  }

  /**
   * `steps.checked` is called once the duplicate check has run, and
   * `steps.announce` once the rows to insert are sealed. `previous`: the
   * table's flush that may still be inserting (pipelined, see the class);
   * this one inserts only after it has ended.
   */
  private async writeUnique(table: string, rows: ClickHouseRow[], steps: FlushSteps, previous?: FlushRun): Promise<Map<string, string>> {
    // Monotonic: a wall clock stepped back during a flush made its duration negative.
    const started = performance.now();
    const repeats: DeadLetter[] = [];
    let repeated = 0;
    let hashes: ReadonlyMap<ClickHouseRow, string> | undefined;
    const unique = new Map<string, ClickHouseRow>();
    for (const row of rows) {
      const id = rowIdentity(row);
      const first = unique.get(id);
      if (!first) unique.set(id, row);
      else if (first.content_hash === row.content_hash) repeated++;
      else repeats.push(rowDeadLetter(table, row, 'conflict: event_id sent twice with different content'));
    }
    const candidates = [...unique.values()];
    const ask = () => this.retrying(() => storedHashes(this.clickhouse, table, candidates, (this.options.lookbackMinutes ?? 30) * 60_000));
    let stored: Map<string, string>;
    try {
      const asked = ask();
      // While ClickHouse answers (and the flush before inserts), on this thread: the rows' hashes, which
      // need no chain head. A row the check then drops was hashed for nothing; repeats are rare.
      hashes = this.options.sealer ? rowHashes(table, candidates) : undefined;
      stored = await asked;
    } finally {
      steps.checked();
    }
    let afterSealed = false;
    if (previous) {
      // The check may have run before the rows of the two flushes before were stored: their sealed rows
      // complete it. Sealing ahead needs the head kept here (an exclusive sealer), never re-read meanwhile.
      const before = this.options.sealer?.exclusive === false ? undefined : await previous.sealed;
      if (before === undefined) {
        await previous.inserted;
        stored = await ask();
      } else {
        afterSealed = true;
        addSealed(stored, unique, [(await previous.sealedBefore) ?? new Map<string, string>(), before]);
      }
    }

    let batch = withoutStored(table, unique, stored);
    let sealed: SealedRows | null | undefined;
    let announced: Map<string, string> | undefined;
    if (afterSealed) {
      // Sealed while the flush before inserts; told to the next flush at once, so it can do the same.
      sealed = await this.seal(table, batch.rows, hashes, true);
      announced = sealed === undefined ? undefined : identities(batch.rows);
      if (announced) steps.announce(announced);
      const asSealed = await previous!.stored;
      if (!asSealed || sealed === undefined) {
        // Not sealed ahead (no head held), or the rows before are not what they sealed (see the class):
        // once that flush has ended, seal (ask again first, in the second case).
        if (!asSealed) steps.stored(false);
        await previous!.inserted;
        if (!asSealed) {
          this.options.sealer?.forget(table);
          batch = withoutStored(table, unique, await ask());
        }
        sealed = announced = undefined;
      }
    }
    if (sealed === undefined) sealed = (await this.seal(table, batch.rows, hashes)) ?? null;
    announced ??= identities(batch.rows);
    steps.announce(announced);

    const poisoned = await this.insertSealed(table, batch.rows, sealed, steps, afterSealed ? previous : undefined);
    const deadLetters = [...repeats, ...batch.conflicts];
    for (const { row, error } of poisoned) deadLetters.push(rowDeadLetter(table, row, insertRejected(error)));
    const rejected = new Set(poisoned.map((p) => p.row));
    const inserted = rejected.size === 0 ? announced : identities(batch.rows.filter((row) => !rejected.has(row)));
    if (deadLetters.length > 0) {
      await this.retrying(() => this.deadLetters.add(deadLetters));
      this.options.logger.warn({ table, count: deadLetters.length }, 'events sent to dead letters');
    }
    this.options.onFlush?.({
      table,
      rows: rows.length,
      written: batch.rows.length - poisoned.length,
      skipped: repeated + batch.skipped,
      deadLettered: deadLetters.length,
      ms: Math.round(performance.now() - started),
      oldestReceivedAt: oldestReceivedAt(batch.rows),
    });
    return inserted;
  }

  /** Seals rows into the table's chain (null without a sealer or rows); `ahead`: ChainSealer.sealAhead, undefined if it cannot. */
  private seal(table: string, rows: ClickHouseRow[], hashes: ReadonlyMap<ClickHouseRow, string> | undefined, ahead = false): Promise<SealedRows | null | undefined> {
    const sealer = this.options.sealer;
    if (!sealer || rows.length === 0) return Promise.resolve(null);
    return ahead ? sealer.sealAhead(table, rows, hashes) : sealer.seal(table, rows, hashes);
  }

  /**
   * Inserts rows as one sealed link of the table's chain. If ClickHouse
   * rejects the batch for its content (not a transient failure), the rows it
   * rejects are found by bisecting against a Null-engine twin of the table
   * (which parses rows but stores nothing), and the rest are sealed and
   * written: one poison event costs only itself, and the chain never has a hole.
   */
  private async insertSealed(
    table: string,
    rows: ClickHouseRow[],
    first: SealedRows | null,
    steps: FlushSteps,
    /** The flush before, still finalizing its seal: this one's seal follows it into ClickHouse. */
    previous?: FlushRun,
  ): Promise<PoisonedRow[]> {
    const sealer = this.options.sealer;
    if (rows.length === 0 || !sealer || !first) {
      const poisoned = await isolatePoison(rows, table, this.insertRows);
      steps.stored(poisoned.length === 0);
      return poisoned;
    }
    try {
      await this.retrying(() => insertBatch(this.clickhouse, table, first.rows));
    } catch (error) {
      steps.stored(false);
      // A transient failure leaves the seal pending: the next flush settles it by what ClickHouse holds.
      if (isTransientClickHouseError(error)) {
        sealer.forget(table);
        throw error;
      }
      await previous?.inserted; // its seal is settled by none but itself while it runs
      await sealer.discard(first.seal);
      const poisoned = await isolatePoison(rows, await probeTable(this.clickhouse, table), this.insertRows);
      const bad = new Set(poisoned.map((p) => p.row));
      const good = rows.filter((r) => !bad.has(r));
      if (good.length > 0) {
        const second = await sealer.seal(table, good);
        await this.retrying(() => insertBatch(this.clickhouse, table, second.rows));
        await this.retrying(() => sealer.finalize(second.seal));
      }
      return poisoned;
    }
    steps.stored(true);
    // The rows are stored under the seal: a failure from here on leaves it pending, for the next flush
    // to settle (never discarded). If the flush before failed after its rows were stored, its seal may be
    // missing from ClickHouse: settling the chain up to this seal puts both there, in order.
    try {
      if (previous && (await previous.inserted) === undefined) await this.retrying(() => sealer.settleThrough(table, first.seal.seq));
      else await this.retrying(() => sealer.finalize(first.seal));
    } catch (error) {
      sealer.forget(table);
      throw error;
    }
    return [];
  }

  private readonly insertRows = (target: string, rows: ClickHouseRow[]) => this.retrying(() => insertBatch(this.clickhouse, target, rows));

  /** Runs fn, retrying transient failures with backoff; other failures are thrown at once. */
  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    const delays = this.options.retryDelaysMs ?? [100, 500, 2000];
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (!isTransientClickHouseError(error) || attempt >= delays.length) throw error;
        await new Promise((r) => setTimeout(r, delays[attempt]));
      }
    }
  }
}

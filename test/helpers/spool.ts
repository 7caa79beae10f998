import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { QueuedEvent } from '../../src/domain/event-row';
import { OWN_SOURCE_APP } from '../../src/domain/own-source-app';
import { toQueuedEvent } from '../../src/domain/queued-event';
import type { ClickHouseClient } from '../../src/lib/clickhouse';
import { createLogger } from '../../src/lib/logger';
import { EventSpool } from '../../src/queues/spool/event-spool';
import { EVENT_TABLES, parseEvent } from '../../src/schemas/event';
import type { Running } from '../../src/roles/start';
import { countUnique, queryRows } from './stack';
import { eventually } from './test-env';

/** The spool of a namespace's data directory. */
export function spoolDir(dataDir: string): string {
  return path.join(dataDir, 'spool');
}

/** Segment files in the spool, oldest first. */
export function spoolSegments(dataDir: string): string[] {
  const dir = spoolDir(dataDir);
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.spool'))
        .sort()
    : [];
}

/**
 * Every event on disk in the spool, in order, read independently of the
 * product's reader: one `<checksum> <json>` line per batch; a last line without
 * its newline (torn by a crash) is left out.
 */
export function spooledEvents(dataDir: string): QueuedEvent[] {
  const events: QueuedEvent[] = [];
  for (const name of spoolSegments(dataDir)) {
    const lines = fs.readFileSync(path.join(spoolDir(dataDir), name), 'utf8').split('\n');
    lines.pop();
    for (const line of lines) events.push(...(JSON.parse(line.slice(17)) as { events: QueuedEvent[] }).events);
  }
  return events;
}

/** Across every event table: rows whose event_id is one of `ids`, and how many distinct ids they hold. */
export async function countEvents(clickhouse: ClickHouseClient, ids: string[]): Promise<{ count: number; unique: number }> {
  let count = 0;
  let unique = 0;
  for (const table of new Set(Object.values(EVENT_TABLES))) {
    const [row] = await queryRows<{ count: number; unique: number }>(
      clickhouse,
      `SELECT count() AS count, uniqExact(source_app, event_id) AS unique FROM ${table} WHERE has({ids:Array(String)}, toString(event_id))`,
      { ids },
    );
    count += Number(row!.count);
    unique += Number(row!.unique);
  }
  return { count, unique };
}

/** The pid of a process that has exited: segments named after it are a crashed process's. */
export function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

/** `n` of the API's own audit events, as the publisher queues them. */
export function ownEvents(n: number, label: string): QueuedEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const raw = { kind: 'audit', event_type: 'todo_created', user_id: label, entity_type: 'TODO', entity_id: randomUUID(), action_type: 'CREATE', new_value: { i } };
    const parsed = parseEvent(raw);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    return toQueuedEvent(parsed.event, raw);
  });
}

/**
 * Leaves a spool as a process that crashed would: one segment per batch,
 * written by the product's spool, then renamed as a dead process's. Returns the file names.
 */
export async function leaveSpool(dataDir: string, batches: QueuedEvent[][]): Promise<string[]> {
  const spool = await EventSpool.open({ dir: spoolDir(dataDir), maxBytes: 1024 ** 3, segmentBytes: 1, logger: createLogger('silent') });
  for (const events of batches) await spool.append({ sourceApp: OWN_SOURCE_APP, receivedAt: new Date().toISOString(), events });
  await spool.close();
  const pid = deadPid();
  const mine = new RegExp(`-${process.pid}\\.spool$`);
  return spoolSegments(dataDir)
    .filter((name) => mine.test(name))
    .map((name) => {
      const renamed = name.replace(mine, `-${pid}.spool`);
      fs.renameSync(path.join(spoolDir(dataDir), name), path.join(spoolDir(dataDir), renamed));
      return renamed;
    });
}

/**
 * Waits until every one of `ids` is in the ClickHouse of a stack running the
 * worker, then checks each is there exactly once, and that no table holds a
 * duplicate of anything (`count() = uniqExact(source_app, event_id)`).
 */
export async function expectStoredOnce(worker: Running, ids: string[]): Promise<void> {
  const clickhouse = worker.clickhouse!;
  await eventually(async () => (await countEvents(clickhouse, ids)).unique === ids.length, 40_000, 250);
  await worker.writer!.flushAll();
  expect(await countEvents(clickhouse, ids)).toEqual({ count: ids.length, unique: ids.length });
  for (const table of new Set(Object.values(EVENT_TABLES))) {
    const { count, unique } = await countUnique(clickhouse, table);
    expect(count).toBe(unique);
  }
}

import fs from 'node:fs';
import path from 'node:path';
import type { QueuedEvent } from '../../src/domain/event-row';
import type { ClickHouseClient } from '../../src/lib/clickhouse';
import { EVENT_TABLES } from '../../src/schemas/event';
import { queryRows } from './stack';

/** The spool of a namespace's data directory. */
export function spoolDir(dataDir: string): string {
  return path.join(dataDir, 'spool');
}

/** Segment files in the spool, oldest first. */
export function spoolSegments(dataDir: string): string[] {
  const dir = spoolDir(dataDir);
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.spool')).sort() : [];
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
      `SELECT count() AS count, uniqExact(event_id) AS unique FROM ${table} WHERE has({ids:Array(String)}, toString(event_id))`,
      { ids },
    );
    count += Number(row!.count);
    unique += Number(row!.unique);
  }
  return { count, unique };
}

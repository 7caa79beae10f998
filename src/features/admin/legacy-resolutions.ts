import type { Pool } from 'pg';
import { fromClickHouseTime } from '../../domain/event-row';
import type { ClickHouseReader } from '../../queues/clickhouse-reader';

const TABLES = { error_log: 'error_logs', security_event: 'security_events' } as const;

/** Unattached resolutions handled per pass; more wait for the next process. */
const BATCH = 5000;

/**
 * Attaches resolutions made before they named the app (source_app '',
 * migration 016) to their event's app, from what ClickHouse holds: the one
 * app that had stored an event with that id by the time it was resolved.
 * Before tenancy an event id was unique across apps, so that is the event
 * the administrator resolved. Where two apps had the id by then, which one
 * was meant cannot be told: the row stays unattached and applies to no
 * event (both show open, to be resolved again), never to both.
 *
 * Run once per process by whoever reads resolutions (the admin incidents,
 * the report builder); the first pass after the upgrade does the work.
 */
export class LegacyResolutions {
  private done?: Promise<number>;

  constructor(
    private readonly pg: Pool,
    private readonly reader: ClickHouseReader,
  ) {}

  /** Attaches what it can, once per process; resolves to how many it attached. */
  settle(): Promise<number> {
    this.done ??= this.attach().catch((error: unknown) => {
      // A failed pass (ClickHouse unreachable) is tried again by the next caller.
      this.done = undefined;
      throw error;
    });
    return this.done;
  }

  private async attach(): Promise<number> {
    const { rows } = await this.pg.query<{ kind: keyof typeof TABLES; event_id: string; resolved_at: Date }>(
      `SELECT kind, event_id::text, resolved_at FROM event_resolutions WHERE source_app = '' ORDER BY resolved_at LIMIT ${BATCH}`,
    );
    let attached = 0;
    for (const kind of Object.keys(TABLES) as (keyof typeof TABLES)[]) {
      const legacy = rows.filter((r) => r.kind === kind);
      if (legacy.length === 0) continue;
      const stored = await this.reader.query<{ id: string; source_app: string; first_received: string }>(
        `SELECT toString(event_id) AS id, source_app, toString(min(received_at)) AS first_received FROM ${TABLES[kind]}
         WHERE has({ids:Array(UUID)}, event_id) GROUP BY event_id, source_app`,
        { ids: legacy.map((r) => r.event_id) },
      );
      for (const r of legacy) {
        const apps = stored.filter((s) => s.id === r.event_id && Date.parse(fromClickHouseTime(s.first_received)) <= r.resolved_at.getTime()).map((s) => s.source_app);
        if (apps.length !== 1) continue;
        // If an administrator has resolved that app's event again since, theirs stands and the old row stays unattached (kept, applying to nothing).
        const { rowCount } = await this.pg.query(
          `UPDATE event_resolutions SET source_app = $3 WHERE kind = $1 AND source_app = '' AND event_id = $2
             AND NOT EXISTS (SELECT 1 FROM event_resolutions WHERE kind = $1 AND source_app = $3 AND event_id = $2)`,
          [kind, r.event_id, apps[0]],
        );
        attached += rowCount ?? 0;
      }
    }
    return attached;
  }
}

import type { Pool } from 'pg';

export type IncidentKind = 'error_log' | 'security_event';

/**
 * event_resolutions: an administrator's resolution of an error log or
 * security event kept in ClickHouse, named by (source_app, event_id).
 * source_app '' marks a resolution made before resolutions named the app
 * (migration 016), not yet attached to its event (legacy-resolutions.ts).
 */
export interface ResolutionRow {
  kind: IncidentKind;
  source_app: string;
  event_id: string;
  resolved_by_admin_id: string;
  resolution_notes: string;
  false_positive: boolean;
  resolved_at: Date;
}

/** How resolutions and ClickHouse rows are matched: the app and the event id, as one string (app names hold no space). */
export function eventKey(sourceApp: string, eventId: string): string {
  return `${sourceApp} ${eventId}`;
}

export class ResolutionRepository {
  constructor(private readonly pg: Pool) {}

  /** Records a resolution; null when that app's event was already resolved. */
  async insert(r: Omit<ResolutionRow, 'resolved_at'>): Promise<ResolutionRow | null> {
    const { rows } = await this.pg.query<ResolutionRow>(
      `INSERT INTO event_resolutions (kind, source_app, event_id, resolved_by_admin_id, resolution_notes, false_positive)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, source_app, event_id) DO NOTHING RETURNING *`,
      [r.kind, r.source_app, r.event_id, r.resolved_by_admin_id, r.resolution_notes, r.false_positive],
    );
    return rows[0] ?? null;
  }

  /** The resolutions of these events, by eventKey(source_app, event_id). */
  async byEvents(kind: IncidentKind, events: { source_app: string; event_id: string }[]): Promise<Map<string, ResolutionRow>> {
    if (events.length === 0) return new Map();
    const { rows } = await this.pg.query<ResolutionRow>(
      `SELECT r.* FROM event_resolutions r JOIN unnest($2::text[], $3::uuid[]) AS e(source_app, event_id) USING (source_app, event_id) WHERE r.kind = $1`,
      [kind, events.map((e) => e.source_app), events.map((e) => e.event_id)],
    );
    return new Map(rows.map((r) => [eventKey(r.source_app, r.event_id), r]));
  }

  /**
   * Every resolved event of a kind, as eventKey strings, to filter ClickHouse
   * by resolution. Resolutions are made by hand, one at a time, so this stays
   * in the thousands; past that, copy them to a ClickHouse table instead.
   */
  async eventKeys(kind: IncidentKind): Promise<string[]> {
    const { rows } = await this.pg.query<{ source_app: string; event_id: string }>(`SELECT source_app, event_id FROM event_resolutions WHERE kind = $1 AND source_app <> ''`, [kind]);
    return rows.map((r) => eventKey(r.source_app, r.event_id));
  }
}

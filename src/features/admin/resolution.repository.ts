import type { Pool } from 'pg';

export type IncidentKind = 'error_log' | 'security_event';

/** event_resolutions: an administrator's resolution of an error log or security event kept in ClickHouse. */
export interface ResolutionRow {
  kind: IncidentKind;
  event_id: string;
  resolved_by_admin_id: string;
  resolution_notes: string;
  false_positive: boolean;
  resolved_at: Date;
}

export class ResolutionRepository {
  constructor(private readonly pg: Pool) {}

  /** Records a resolution; null when the event was already resolved. */
  async insert(r: Omit<ResolutionRow, 'resolved_at'>): Promise<ResolutionRow | null> {
    const { rows } = await this.pg.query<ResolutionRow>(
      `INSERT INTO event_resolutions (kind, event_id, resolved_by_admin_id, resolution_notes, false_positive)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, event_id) DO NOTHING RETURNING *`,
      [r.kind, r.event_id, r.resolved_by_admin_id, r.resolution_notes, r.false_positive],
    );
    return rows[0] ?? null;
  }

  async byEventIds(kind: IncidentKind, eventIds: string[]): Promise<Map<string, ResolutionRow>> {
    if (eventIds.length === 0) return new Map();
    const { rows } = await this.pg.query<ResolutionRow>('SELECT * FROM event_resolutions WHERE kind = $1 AND event_id = ANY($2::uuid[])', [kind, eventIds]);
    return new Map(rows.map((r) => [r.event_id, r]));
  }

  /**
   * Every resolved event id of a kind, to filter ClickHouse by resolution.
   * Resolutions are made by hand, one at a time, so this stays in the
   * thousands; past that, copy them to a ClickHouse table instead.
   */
  async eventIds(kind: IncidentKind): Promise<string[]> {
    const { rows } = await this.pg.query<{ event_id: string }>('SELECT event_id FROM event_resolutions WHERE kind = $1', [kind]);
    return rows.map((r) => r.event_id);
  }
}

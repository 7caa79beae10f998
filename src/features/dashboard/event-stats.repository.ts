import { fromClickHouseTime, toClickHouseTime } from '../../domain/event-row';
import type { ClickHouseReader } from '../../queues/clickhouse-reader';

/** Events of one kind in one UTC hour. */
export interface HourlyCount {
  hour: string;
  kind: string;
  events: number;
}

/**
 * Traffic figures for the dashboard, from the events_per_hour materialized
 * view (clickhouse/003), never the event tables: a month is at most 720
 * hours × 8 kinds, whatever the tables hold.
 */
export class EventStatsRepository {
  constructor(private readonly reader: ClickHouseReader) {}

  /** Events per hour and kind in [from, to), of those apps only when `apps` is given; hours with none are absent. */
  async perHour(from: Date, to: Date, apps?: string[]): Promise<HourlyCount[]> {
    const rows = await this.reader.query<HourlyCount>(
      `SELECT hour, kind, sum(events) AS events FROM events_per_hour
       WHERE hour >= {from:DateTime64(0, 'UTC')} AND hour < {to:DateTime64(0, 'UTC')}${apps === undefined ? '' : ' AND has({apps:Array(String)}, source_app)'}
       GROUP BY hour, kind ORDER BY hour, kind`,
      { from: toClickHouseTime(from).slice(0, 19), to: toClickHouseTime(to).slice(0, 19), ...(apps === undefined ? {} : { apps }) },
    );
    return rows.map((r) => ({ hour: fromClickHouseTime(r.hour), kind: r.kind, events: Number(r.events) }));
  }

  /** The event types seen for a kind in the last 90 days, with their counts: what a filter can offer. */
  async eventTypes(kind: string): Promise<{ event_type: string; events: number }[]> {
    const rows = await this.reader.query<{ event_type: string; events: number }>(
      `SELECT event_type, sum(events) AS events FROM events_per_hour WHERE kind = {kind:String} AND hour >= now() - INTERVAL 90 DAY
       GROUP BY event_type ORDER BY event_type LIMIT 500`,
      { kind },
    );
    return rows.map((r) => ({ event_type: r.event_type, events: Number(r.events) }));
  }

  /** The source apps that sent events in the last 90 days. */
  async apps(): Promise<string[]> {
    const rows = await this.reader.query<{ source_app: string }>(`SELECT DISTINCT source_app FROM events_per_hour WHERE hour >= now() - INTERVAL 90 DAY ORDER BY source_app LIMIT 1000`);
    return rows.map((r) => r.source_app);
  }

  /** Dead letters: all of them, and those not replayed yet; of those apps only when `apps` is given. */
  async deadLetters(apps?: string[]): Promise<{ total: number; pending: number }> {
    const [row] = await this.reader.query<{ total: number; pending: number }>(
      `SELECT count() AS total, countIf(dead_letter_id NOT IN (SELECT dead_letter_id FROM dead_letter_replays)) AS pending FROM dead_letter_events${apps === undefined ? '' : ' WHERE has({apps:Array(String)}, source_app)'}`,
      apps === undefined ? {} : { apps },
    );
    return { total: Number(row?.total ?? 0), pending: Number(row?.pending ?? 0) };
  }
}

import { fromClickHouseTime, toClickHouseTime } from '../../domain/event-row';
import type { ClickHouseReader } from '../../queues/clickhouse-reader';

/** Security events of one UTC hour with one severity and one action taken. */
export interface SecurityHourCount {
  hour: string;
  severity_level: string;
  /** The action the event reports ('' when none). */
  action_taken: string;
  events: number;
}

/**
 * Security events per hour, by severity and action, for the dashboard's
 * charts. No materialized view holds severities or actions, so this reads
 * security_events itself: a bounded period (at most 30 days, the months it
 * spans being its partitions) of a table that holds the detections, not the
 * traffic.
 */
export class SecurityTrendRepository {
  constructor(private readonly reader: ClickHouseReader) {}

  /** Counts per hour, severity and action in [from, to), of one app when `app` is given; hours with none are absent. */
  async perHour(from: Date, to: Date, app?: string): Promise<SecurityHourCount[]> {
    const rows = await this.reader.query<SecurityHourCount>(
      `SELECT fromUnixTimestamp64Milli(intDiv(toUnixTimestamp64Milli(occurred_at), 3600000) * 3600000, 'UTC') AS hour, severity_level, ifNull(action_taken, '') AS action_taken, count() AS events
       FROM security_events
       WHERE occurred_at >= {from:DateTime64(3, 'UTC')} AND occurred_at < {to:DateTime64(3, 'UTC')}${app === undefined ? '' : ' AND source_app = {app:String}'}
       GROUP BY hour, severity_level, action_taken ORDER BY hour`,
      { from: toClickHouseTime(from), to: toClickHouseTime(to), ...(app === undefined ? {} : { app }) },
    );
    return rows.map((r) => ({ hour: fromClickHouseTime(r.hour), severity_level: r.severity_level, action_taken: r.action_taken, events: Number(r.events) }));
  }
}

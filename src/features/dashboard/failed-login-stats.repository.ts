import { fromClickHouseTime, toClickHouseTime } from '../../domain/event-row';
import type { ClickHouseReader } from '../../queues/clickhouse-reader';

/** Failed logins from one source IP over a period. */
export interface FailedLoginsByIp {
  ip_address: string;
  attempts: number;
  /** Distinct email addresses tried from it. */
  accounts: number;
  first_seen: string;
  last_seen: string;
}

/** Failed logins on one account (the email as tried) over a period. */
export interface FailedLoginsByAccount {
  email_address: string;
  attempts: number;
  /** Distinct source IPs. */
  source_ips: number;
  /** Attempts that came with a lockout. */
  lockouts: number;
  first_seen: string;
  last_seen: string;
}

/** One UTC day of auth_audit_log risk scores (low < 30, medium 30-69, high >= 70). */
export interface RiskDay {
  day: string;
  events: number;
  low: number;
  medium: number;
  high: number;
  risk_avg: number;
  risk_max: number;
}

export interface Page {
  from: Date;
  to: Date;
  limit: number;
  offset: number;
  /** One source app's attempts only. */
  app?: string;
}

const period = (p: Page) => ({
  from: toClickHouseTime(p.from).slice(0, 19),
  to: toClickHouseTime(p.to).slice(0, 19),
  limit: p.limit,
  offset: p.offset,
  ...(p.app === undefined ? {} : { app: p.app }),
});
const IN_PERIOD = `hour >= {from:DateTime64(0, 'UTC')} AND hour < {to:DateTime64(0, 'UTC')}`;
/**
 * The views have no source_app, so one app's figures are aggregated from
 * failed_login_attempts itself, as the views aggregate it: one app's rows of
 * one period, bounded by the page.
 */
const APP_IN_PERIOD = `source_app = {app:String} AND occurred_at >= {from:DateTime64(0, 'UTC')} AND occurred_at < {to:DateTime64(0, 'UTC')}`;
const PAGE = 'LIMIT {limit:UInt32} OFFSET {offset:UInt32}';

/**
 * Failed logins and auth risk from their materialized views (clickhouse/003):
 * failed_logins_per_ip_hour, failed_logins_per_account_hour and auth_risk_daily.
 * Each is aggregated again on read, as the views' rows merge eventually.
 */
export class FailedLoginStatsRepository {
  constructor(private readonly reader: ClickHouseReader) {}

  /** The most active source IPs first; `limit` rows from `offset`. */
  async byIp(page: Page): Promise<FailedLoginsByIp[]> {
    const rows = await this.reader.query<FailedLoginsByIp>(
      page.app === undefined
        ? `SELECT ip_address, sum(attempts) AS attempts, uniqMerge(accounts) AS accounts, min(first_seen) AS first_seen, max(last_seen) AS last_seen
           FROM failed_logins_per_ip_hour WHERE ${IN_PERIOD}
           GROUP BY ip_address ORDER BY attempts DESC, ip_address ${PAGE}`
        : `SELECT ifNull(failed_login_attempts.ip_address, '') AS ip_address, count() AS attempts, uniq(lower(email_address)) AS accounts,
                  min(occurred_at) AS first_seen, max(occurred_at) AS last_seen
           FROM failed_login_attempts WHERE ${APP_IN_PERIOD}
           GROUP BY ip_address ORDER BY attempts DESC, ip_address ${PAGE}`,
      period(page),
    );
    return rows.map((r) => ({ ...r, attempts: Number(r.attempts), accounts: Number(r.accounts), first_seen: fromClickHouseTime(r.first_seen), last_seen: fromClickHouseTime(r.last_seen) }));
  }

  /** The most attacked accounts first; `limit` rows from `offset`. */
  async byAccount(page: Page): Promise<FailedLoginsByAccount[]> {
    const rows = await this.reader.query<FailedLoginsByAccount>(
      page.app === undefined
        ? `SELECT email_address, sum(attempts) AS attempts, uniqMerge(source_ips) AS source_ips, sum(lockouts) AS lockouts,
                  min(first_seen) AS first_seen, max(last_seen) AS last_seen
           FROM failed_logins_per_account_hour WHERE ${IN_PERIOD}
           GROUP BY email_address ORDER BY attempts DESC, email_address ${PAGE}`
        : `SELECT lower(failed_login_attempts.email_address) AS email_address, count() AS attempts, uniqIf(ifNull(ip_address, ''), ip_address IS NOT NULL) AS source_ips,
                  countIf(lockout_status IS NOT NULL) AS lockouts, min(occurred_at) AS first_seen, max(occurred_at) AS last_seen
           FROM failed_login_attempts WHERE ${APP_IN_PERIOD}
           GROUP BY email_address ORDER BY attempts DESC, email_address ${PAGE}`,
      period(page),
    );
    return rows.map((r) => ({
      ...r,
      attempts: Number(r.attempts),
      source_ips: Number(r.source_ips),
      lockouts: Number(r.lockouts),
      first_seen: fromClickHouseTime(r.first_seen),
      last_seen: fromClickHouseTime(r.last_seen),
    }));
  }

  /** Risk scores of auth events per day, from `from` (a UTC day) on. */
  async riskPerDay(from: Date): Promise<RiskDay[]> {
    const rows = await this.reader.query<RiskDay>(
      // The average divides sums: risk_sum and events are both additive, an average of averages is not.
      `SELECT day, sum(auth_risk_daily.events) AS events, sum(low) AS low, sum(medium) AS medium, sum(high) AS high,
              round(sum(risk_sum) / sum(auth_risk_daily.events), 1) AS risk_avg, max(risk_max) AS risk_max
       FROM auth_risk_daily WHERE day >= {from:Date32} GROUP BY day ORDER BY day`,
      { from: from.toISOString().slice(0, 10) },
    );
    return rows.map((r) => ({ day: r.day, events: Number(r.events), low: Number(r.low), medium: Number(r.medium), high: Number(r.high), risk_avg: Number(r.risk_avg), risk_max: Number(r.risk_max) }));
  }
}

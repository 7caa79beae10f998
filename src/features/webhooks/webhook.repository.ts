import type { Pool } from 'pg';
import type { WebhookEventType } from '../../domain/webhook-events';

export interface WebhookRow {
  source_app: string;
  url: string;
  secret_sealed: string;
  events: WebhookEventType[];
  is_active: boolean;
  created_at: Date;
  updated_at: Date;
}

/** app_webhooks: one webhook per sending app. */
export class WebhookRepository {
  constructor(private readonly pg: Pool) {}

  async get(sourceApp: string): Promise<WebhookRow | null> {
    const { rows } = await this.pg.query<WebhookRow>(`SELECT * FROM app_webhooks WHERE source_app = $1`, [sourceApp]);
    return rows[0] ?? null;
  }

  /** Creates or replaces the app's webhook; the secret changes only when `secretSealed` is given. */
  async upsert(sourceApp: string, url: string, events: WebhookEventType[], isActive: boolean, secretSealed: string | null): Promise<{ row: WebhookRow; created: boolean }> {
    const { rows } = await this.pg.query<WebhookRow & { created: boolean }>(
      `INSERT INTO app_webhooks (source_app, url, events, is_active, secret_sealed) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (source_app) DO UPDATE SET url = EXCLUDED.url, events = EXCLUDED.events, is_active = EXCLUDED.is_active,
         secret_sealed = COALESCE($6, app_webhooks.secret_sealed), updated_at = now()
       RETURNING *, (xmax = 0) AS created`,
      [sourceApp, url, events, isActive, secretSealed ?? '', secretSealed],
    );
    const { created, ...row } = rows[0]!;
    return { row, created };
  }

  /** The apps whose active webhook subscribes to `type`: a notice about the whole store goes to each. */
  async subscribers(type: WebhookEventType): Promise<string[]> {
    const { rows } = await this.pg.query<{ source_app: string }>(`SELECT source_app FROM app_webhooks WHERE is_active AND $1 = ANY(events) ORDER BY source_app`, [type]);
    return rows.map((r) => r.source_app);
  }

  async delete(sourceApp: string): Promise<boolean> {
    const { rowCount } = await this.pg.query(`DELETE FROM app_webhooks WHERE source_app = $1`, [sourceApp]);
    return rowCount === 1;
  }
}

import type { Pool, PoolClient } from 'pg';
import { withTransaction } from '../../lib/pg';

/** A row of data_retention_policies (docs/data-model.md; migrations 008 and 010a). */
export interface RetentionPolicyRow {
  table_name: string;
  retention_period_days: number;
  archive_after_days: number | null;
  delete_after_days: number | null;
  is_active: boolean;
  last_cleanup_at: Date | null;
  last_archive_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export type PolicyChange = Partial<Pick<RetentionPolicyRow, 'retention_period_days' | 'archive_after_days' | 'delete_after_days' | 'is_active'>>;

const CHANGEABLE = new Set(['retention_period_days', 'archive_after_days', 'delete_after_days', 'is_active']);
const COLUMNS = 'table_name, retention_period_days, archive_after_days, delete_after_days, is_active, last_cleanup_at, last_archive_at, created_at, updated_at';

/** What the retention job needs of a policy. */
export type ActivePolicy = Pick<RetentionPolicyRow, 'table_name' | 'retention_period_days' | 'archive_after_days' | 'delete_after_days'>;

/** data_retention_policies, as the API reads and changes them and the retention job applies them. */
export class RetentionPolicyRepository {
  constructor(private readonly pg: Pool) {}

  async all(): Promise<RetentionPolicyRow[]> {
    return (await this.pg.query<RetentionPolicyRow>(`SELECT ${COLUMNS} FROM data_retention_policies ORDER BY table_name`)).rows;
  }

  /** The policies the retention job applies, by table. */
  async active(): Promise<ActivePolicy[]> {
    return (await this.pg.query<ActivePolicy>('SELECT table_name, retention_period_days, archive_after_days, delete_after_days FROM data_retention_policies WHERE is_active ORDER BY table_name')).rows;
  }

  async markArchived(table: string): Promise<void> {
    await this.pg.query('UPDATE data_retention_policies SET last_archive_at = now() WHERE table_name = $1', [table]);
  }

  async markCleanedUp(table: string): Promise<void> {
    await this.pg.query('UPDATE data_retention_policies SET last_cleanup_at = now() WHERE table_name = $1', [table]);
  }

  /**
   * Applies `change` to one policy inside a transaction holding its row
   * lock; `check` sees the row before and after and may throw to roll back.
   * Null when the table has no policy.
   */
  async update(table: string, change: PolicyChange, check: (before: RetentionPolicyRow, after: RetentionPolicyRow) => void): Promise<{ before: RetentionPolicyRow; after: RetentionPolicyRow } | null> {
    return withTransaction(this.pg, async (client) => {
      const before = await this.locked(client, table);
      // Nothing written yet: committing the lone SELECT undoes nothing.
      if (!before) return null;
      const entries = Object.entries(change).filter(([column, value]) => CHANGEABLE.has(column) && value !== undefined);
      const sets = entries.map(([column], i) => `${column} = $${i + 2}`);
      const { rows } = await client.query<RetentionPolicyRow>(`UPDATE data_retention_policies SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE table_name = $1 RETURNING ${COLUMNS}`, [
        table,
        ...entries.map(([, value]) => value),
      ]);
      check(before, rows[0]!);
      return { before, after: rows[0]! };
    });
  }

  private async locked(client: PoolClient, table: string): Promise<RetentionPolicyRow | null> {
    return (await client.query<RetentionPolicyRow>(`SELECT ${COLUMNS} FROM data_retention_policies WHERE table_name = $1 FOR UPDATE`, [table])).rows[0] ?? null;
  }
}

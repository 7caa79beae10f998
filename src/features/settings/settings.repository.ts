import type { Pool, PoolClient } from 'pg';

export const SETTING_TYPES = ['string', 'integer', 'boolean', 'json', 'float'] as const;
export type SettingType = (typeof SETTING_TYPES)[number];

/** A row of system_settings (todo_app_system_settings). `setting_value` is sealed when `is_encrypted`. */
export interface SettingRow {
  id: string;
  setting_key: string;
  setting_value: string;
  setting_type: SettingType;
  description: string | null;
  is_mutable: boolean;
  is_encrypted: boolean;
  modified_by_admin_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export type NewSetting = Pick<SettingRow, 'setting_key' | 'setting_value' | 'setting_type' | 'description' | 'is_mutable' | 'is_encrypted' | 'modified_by_admin_id'>;

export class SettingsRepository {
  constructor(private readonly pg: Pool) {}

  async all(): Promise<SettingRow[]> {
    return (await this.pg.query<SettingRow>('SELECT * FROM system_settings ORDER BY setting_key')).rows;
  }

  async byKey(key: string, client: Pool | PoolClient = this.pg): Promise<SettingRow | null> {
    return (await client.query<SettingRow>('SELECT * FROM system_settings WHERE setting_key = $1', [key])).rows[0] ?? null;
  }

  async insert(s: NewSetting): Promise<SettingRow | null> {
    const { rows } = await this.pg.query<SettingRow>(
      `INSERT INTO system_settings (setting_key, setting_value, setting_type, description, is_mutable, is_encrypted, modified_by_admin_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (setting_key) DO NOTHING RETURNING *`,
      [s.setting_key, s.setting_value, s.setting_type, s.description, s.is_mutable, s.is_encrypted, s.modified_by_admin_id],
    );
    return rows[0] ?? null;
  }

  async update(key: string, patch: Partial<Pick<SettingRow, 'setting_value' | 'description' | 'is_mutable'>>, adminId: string | null): Promise<SettingRow | null> {
    const { rows } = await this.pg.query<SettingRow>(
      `UPDATE system_settings SET
         setting_value = COALESCE($2, setting_value),
         description = COALESCE($3, description),
         is_mutable = COALESCE($4, is_mutable),
         modified_by_admin_id = $5,
         updated_at = now()
       WHERE setting_key = $1 RETURNING *`,
      [key, patch.setting_value ?? null, patch.description ?? null, patch.is_mutable ?? null, adminId],
    );
    return rows[0] ?? null;
  }

  async delete(key: string): Promise<SettingRow | null> {
    return (await this.pg.query<SettingRow>('DELETE FROM system_settings WHERE setting_key = $1 RETURNING *', [key])).rows[0] ?? null;
  }
}

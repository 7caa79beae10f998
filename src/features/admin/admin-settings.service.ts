import type { RequestContext } from '../../http/request-context';
import type { SettingInput, SettingsService, SettingView } from '../settings/settings.service';
import { ADMIN_LEVELS } from './admin-levels';

/** Shown instead of an encrypted value to administrators below `manageSettings`. */
export const REDACTED = '[encrypted]';

/**
 * System settings as administrators see them. SettingsService does the work
 * (encryption at rest, immutability, audit events); this decides who sees
 * decrypted values: only administrators who may also change them.
 */
export class AdminSettingsService {
  constructor(private readonly settings: SettingsService) {}

  async list(adminLevel: number): Promise<SettingView[]> {
    return (await this.settings.list()).map((s) => this.forLevel(s, adminLevel));
  }

  async get(key: string, adminLevel: number): Promise<SettingView> {
    return this.forLevel(await this.settings.get(key), adminLevel);
  }

  create(input: SettingInput, ctx: RequestContext): Promise<SettingView> {
    return this.settings.create(input, ctx);
  }

  update(key: string, patch: { setting_value?: string; description?: string | null; is_mutable?: boolean }, ctx: RequestContext): Promise<SettingView> {
    return this.settings.update(key, patch, ctx);
  }

  delete(key: string, ctx: RequestContext): Promise<void> {
    return this.settings.delete(key, ctx);
  }

  private forLevel(s: SettingView, adminLevel: number): SettingView {
    return s.is_encrypted && adminLevel < ADMIN_LEVELS.manageSettings ? { ...s, setting_value: REDACTED } : s;
  }
}

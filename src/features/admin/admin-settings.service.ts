import type { RequestContext } from '../../http/request-context';
import type { EventPublisher } from '../../queues/event-publisher';
import { actorFields } from '../audit/actor-fields';
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
  constructor(
    private readonly settings: SettingsService,
    /** Where a read that shows an encrypted value in the clear is recorded. */
    private readonly events?: EventPublisher,
  ) {}

  async list(adminLevel: number, ctx: RequestContext): Promise<SettingView[]> {
    const started = performance.now();
    const views = (await this.settings.list()).map((s) => this.forLevel(s, adminLevel));
    for (const v of views) this.recordReveal(v, ctx, started);
    return views;
  }

  async get(key: string, adminLevel: number, ctx: RequestContext): Promise<SettingView> {
    const started = performance.now();
    const view = this.forLevel(await this.settings.get(key), adminLevel);
    this.recordReveal(view, ctx, started);
    return view;
  }

  /** An encrypted value shown in the clear is a secret revealed: an audit READ naming the setting, never its value. */
  private recordReveal(view: SettingView, ctx: RequestContext, started: number): void {
    if (!view.is_encrypted || view.setting_value === REDACTED) return;
    this.events?.publish({
      kind: 'audit',
      event_type: 'setting_viewed',
      action_type: 'READ',
      entity_type: 'SYSTEM_SETTING',
      entity_id: view.id,
      new_value: { setting_key: view.setting_key, revealed: true },
      duration_ms: Math.round(performance.now() - started),
      ...actorFields(ctx),
    });
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

import { SETTING_RULES, settingProblem, weakening } from './setting-rules';
import { AppError } from '../../lib/errors/app-error';
import type { SecretBox } from '../../lib/secret-box';
import type { EventPublisher } from '../../queues/event-publisher';
import type { RequestContext } from '../../http/request-context';
import { actorFields } from '../audit/actor-fields';
import type { SettingsRepository, SettingRow, SettingType } from './settings.repository';

/** A setting as administrators see it: decrypted for them, never put in an event in the clear. */
export interface SettingView extends Omit<SettingRow, 'setting_value'> {
  setting_value: string;
}

export interface SettingInput {
  setting_key: string;
  setting_value: string;
  setting_type: SettingType;
  description?: string | null;
  is_mutable?: boolean;
  is_encrypted?: boolean;
}

/** What an event may say about a setting's value. */
const ENCRYPTED_PLACEHOLDER = '[encrypted]';

function checkValue(type: SettingType, value: string): void {
  const ok =
    type === 'string' ||
    (type === 'integer' && /^-?\d+$/.test(value)) ||
    (type === 'float' && value.trim() !== '' && Number.isFinite(Number(value))) ||
    (type === 'boolean' && (value === 'true' || value === 'false')) ||
    (type === 'json' &&
      (() => {
        try {
          JSON.parse(value);
          return true;
        } catch {
          return false;
        }
      })());
  if (!ok)
    throw new AppError('VALIDATION_FAILED', `setting_value "${type === 'json' ? 'this' : value}" is not a valid ${type}`, { details: [{ path: 'setting_value', message: `must be a valid ${type}` }] });
}

/** A known setting's range (domain/setting-rules.ts): a value outside it could switch protection off or break a route. */
function checkRule(key: string, value: string): void {
  const problem = settingProblem(key, value);
  if (problem) throw new AppError('VALIDATION_FAILED', problem, { details: [{ path: 'setting_value', message: problem }] });
}

/** Told when a change lowers protection (a longer session, a higher lockout threshold…). */
export type WeakeningNotice = (notice: { setting_key: string; before: string; after: string; risk: string }) => Promise<void>;

/**
 * System settings (key, value, type, is_mutable, is_encrypted). Reads used
 * by the request path (lockout thresholds…) are cached for a second or two,
 * so a change takes effect almost at once without a query per login.
 */
export class SettingsService {
  private cache?: { at: number; values: Map<string, SettingRow> };

  constructor(
    private readonly repository: SettingsRepository,
    private readonly box: SecretBox,
    private readonly events: EventPublisher | undefined,
    /** How long values read are reused (SETTINGS_CACHE_MS). */
    private readonly cacheMs: number,
    /** A webhook notice of a weakening change; the HIGH security event is published here whatever it does. */
    private readonly onWeakened?: WeakeningNotice,
  ) {}

  /** An integer setting, or `fallback` when it is missing or not an integer. */
  async integer(key: string, fallback: number): Promise<number> {
    const value = await this.valid(key);
    const n = value === undefined ? NaN : Number(value);
    return Number.isInteger(n) ? n : fallback;
  }

  /** A numeric setting (integer or float), or `fallback` when it is missing or not a number. */
  async number(key: string, fallback: number): Promise<number> {
    const value = await this.valid(key);
    const n = value === undefined ? NaN : Number(value);
    return Number.isFinite(n) ? n : fallback;
  }

  /** A text setting, or `fallback` when it is missing. */
  async text(key: string, fallback: string): Promise<string> {
    return (await this.valid(key)) ?? fallback;
  }

  /** The stored value, unless it is outside the setting's rule: written by hand in PostgreSQL, it must not break a route. */
  private async valid(key: string): Promise<string | undefined> {
    const row = (await this.values()).get(key);
    if (!row) return undefined;
    const value = this.plain(row);
    return settingProblem(key, value) === null || SETTING_RULES[key]?.keepOnRead ? value : undefined;
  }

  async list(): Promise<SettingView[]> {
    return (await this.repository.all()).map((r) => this.view(r));
  }

  async get(key: string): Promise<SettingView> {
    const row = await this.repository.byKey(key);
    if (!row) throw new AppError('NOT_FOUND', `no setting "${key}"`);
    return this.view(row);
  }

  async create(input: SettingInput, ctx: RequestContext): Promise<SettingView> {
    checkValue(input.setting_type, input.setting_value);
    checkRule(input.setting_key, input.setting_value);
    const started = performance.now();
    const encrypted = input.is_encrypted ?? false;
    const row = await this.repository.insert({
      setting_key: input.setting_key,
      setting_value: encrypted ? this.box.seal(input.setting_value) : input.setting_value,
      setting_type: input.setting_type,
      description: input.description ?? null,
      is_mutable: input.is_mutable ?? true,
      is_encrypted: encrypted,
      modified_by_admin_id: ctx.actor?.id ?? null,
    });
    if (!row) throw new AppError('CONFLICT', `setting "${input.setting_key}" already exists`);
    this.invalidate();
    this.audit('CREATE', 'setting_created', row, null, this.eventValue(row), ctx, started);
    // Until now the code's default was in force: a looser value set by creating the row weakens as a change would.
    const fallback = SETTING_RULES[input.setting_key]?.fallback;
    if (fallback !== undefined) await this.flagWeakening(input.setting_key, fallback, input.setting_value, ctx);
    return this.view(row);
  }

  async update(key: string, patch: { setting_value?: string; description?: string | null; is_mutable?: boolean }, ctx: RequestContext): Promise<SettingView> {
    const started = performance.now();
    const before = await this.repository.byKey(key);
    if (!before) throw new AppError('NOT_FOUND', `no setting "${key}"`);
    // Flipped through the API, the flag would let anyone who may edit settings unlock an immutable one, or freeze a mutable one for good.
    if (patch.is_mutable !== undefined && patch.is_mutable !== before.is_mutable) {
      throw new AppError('VALIDATION_FAILED', `is_mutable cannot be changed through the API (setting "${key}" is ${before.is_mutable ? 'mutable' : 'immutable'}); it changes only with a migration`, {
        details: [{ path: 'is_mutable', message: 'cannot be changed through the API' }],
      });
    }
    if (!before.is_mutable && patch.setting_value !== undefined) {
      throw new AppError('FORBIDDEN', `setting "${key}" is immutable; it can only change with a restart-time migration`);
    }
    if (patch.setting_value !== undefined) {
      checkValue(before.setting_type, patch.setting_value);
      checkRule(key, patch.setting_value);
    }
    const after = await this.repository.update(
      key,
      {
        setting_value: patch.setting_value === undefined ? undefined : before.is_encrypted ? this.box.seal(patch.setting_value) : patch.setting_value,
        description: patch.description ?? undefined,
        is_mutable: undefined,
      },
      ctx.actor?.id ?? null,
    );
    if (!after) throw new AppError('NOT_FOUND', `no setting "${key}"`);
    this.invalidate();
    this.audit('UPDATE', 'setting_updated', after, this.eventValue(before), this.eventValue(after), ctx, started);
    if (patch.setting_value !== undefined) await this.flagWeakening(key, this.plain(before), patch.setting_value, ctx);
    return this.view(after);
  }

  async delete(key: string, ctx: RequestContext): Promise<void> {
    const started = performance.now();
    const before = await this.repository.byKey(key);
    if (!before) throw new AppError('NOT_FOUND', `no setting "${key}"`);
    if (!before.is_mutable) throw new AppError('FORBIDDEN', `setting "${key}" is immutable`);
    await this.repository.delete(key);
    this.invalidate();
    this.audit('DELETE', 'setting_deleted', before, this.eventValue(before), null, ctx, started);
    // The code's default is in force again: deleting a tightened value weakens as a change back would.
    const fallback = SETTING_RULES[key]?.fallback;
    if (fallback !== undefined) await this.flagWeakening(key, this.plain(before), fallback, ctx);
  }

  /** A change that lowers protection is a HIGH security event, and a webhook notice, on top of its audit event. */
  private async flagWeakening(key: string, before: string, after: string, ctx: RequestContext): Promise<void> {
    const risk = weakening(key, before, after);
    if (!risk) return;
    this.events?.publish({
      kind: 'security',
      event_type: 'PROTECTION_WEAKENED',
      severity_level: 'HIGH',
      event_source: 'ADMIN_PANEL',
      event_description: `${key} changed from ${before} to ${after}: ${risk}`,
      resource_involved: `system_settings/${key}`,
      action_taken: 'LOGGED_ONLY',
      event_category: 'CONFIGURATION_CHANGE',
      detection_method: 'setting_rules',
      ip_address: ctx.ip ?? null,
      metadata: { setting_key: key, before, after, risk, actor: ctx.actor ?? null },
    });
    await this.onWeakened?.({ setting_key: key, before, after, risk });
  }

  private async values(): Promise<Map<string, SettingRow>> {
    // Monotonic: a wall clock stepped back would keep stale settings (lockout, sessions) for the size of the step.
    if (!this.cache || performance.now() - this.cache.at > this.cacheMs) {
      this.cache = { at: performance.now(), values: new Map((await this.repository.all()).map((r) => [r.setting_key, r])) };
    }
    return this.cache.values;
  }

  private invalidate(): void {
    this.cache = undefined;
  }

  private plain(row: SettingRow): string {
    return row.is_encrypted ? this.box.open(row.setting_value) : row.setting_value;
  }

  private view(row: SettingRow): SettingView {
    return { ...row, setting_value: this.plain(row) };
  }

  private eventValue(row: SettingRow): Record<string, unknown> {
    return {
      setting_key: row.setting_key,
      setting_value: row.is_encrypted ? ENCRYPTED_PLACEHOLDER : row.setting_value,
      setting_type: row.setting_type,
      is_mutable: row.is_mutable,
      is_encrypted: row.is_encrypted,
    };
  }

  private audit(actionType: string, eventType: string, row: SettingRow, previous: Record<string, unknown> | null, next: Record<string, unknown> | null, ctx: RequestContext, started: number): void {
    this.events?.publish({
      kind: 'audit',
      event_type: eventType,
      action_type: actionType,
      entity_type: 'SYSTEM_SETTING',
      entity_id: row.id,
      previous_value: previous,
      new_value: next,
      duration_ms: Math.round(performance.now() - started),
      ...actorFields(ctx),
    });
  }
}

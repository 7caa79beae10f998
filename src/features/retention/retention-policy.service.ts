import { retentionFloorProblem } from './retention-floor';
import { AppError } from '../../lib/errors/app-error';
import type { EventPublisher } from '../../queues/event-publisher';
import { actorFields } from '../audit/actor-fields';
import type { RequestContext } from '../../http/request-context';
import type { WeakeningNotice } from '../settings/settings.service';
import type { PolicyChange, RetentionPolicyRepository, RetentionPolicyRow } from './retention-policy.repository';

/** The day count after which the retention job deletes a table's sealed flushes. */
export function deletionDays(p: Pick<RetentionPolicyRow, 'retention_period_days' | 'delete_after_days'>): number {
  return p.delete_after_days ?? p.retention_period_days;
}

/** Why a policy cannot stand, or null: deletion never before the retention period, archiving never after deletion. */
export function policyProblem(p: Pick<RetentionPolicyRow, 'retention_period_days' | 'archive_after_days' | 'delete_after_days'>): { path: string; message: string } | null {
  if (p.delete_after_days !== null && p.delete_after_days < p.retention_period_days) {
    return { path: 'delete_after_days', message: `must be at least retention_period_days (${p.retention_period_days}): rows may not be deleted before their retention period ends` };
  }
  if (p.archive_after_days !== null && p.archive_after_days > deletionDays(p)) {
    return { path: 'archive_after_days', message: `must be at most the deletion age (${deletionDays(p)} days): rows are archived before they are deleted` };
  }
  return null;
}

/** What an audit event says about a policy: the fields a change can touch. */
function auditValue(p: RetentionPolicyRow): Record<string, unknown> {
  return { table_name: p.table_name, retention_period_days: p.retention_period_days, archive_after_days: p.archive_after_days, delete_after_days: p.delete_after_days, is_active: p.is_active };
}

/**
 * data_retention_policies for administrators and `retention` keys: list
 * them, change one. Every change is checked as a whole and recorded as an
 * audit event (retention_policy_updated) with the old and new values; the
 * monthly compliance report counts it among the retention actions.
 */
export class RetentionPolicyService {
  constructor(
    private readonly policies: RetentionPolicyRepository,
    private readonly events: EventPublisher | undefined,
    /** RETENTION_MIN_DAYS: audit, auth and security tables keep their rows at least this long. */
    private readonly floorDays = 365,
    /** The webhook notice of a cut. */
    private readonly onCut?: WeakeningNotice,
  ) {}

  list(): Promise<RetentionPolicyRow[]> {
    return this.policies.all();
  }

  async update(table: string, change: PolicyChange, reason: string | undefined, ctx: RequestContext): Promise<RetentionPolicyRow> {
    const started = performance.now();
    const result = await this.policies.update(table, change, (_before, after) => {
      const problem = policyProblem(after) ?? retentionFloorProblem(table, after, this.floorDays);
      if (problem) throw new AppError('VALIDATION_FAILED', `${problem.path}: ${problem.message}`, { details: [problem] });
    });
    if (!result) throw new AppError('NOT_FOUND', `no retention policy for ${table}`);
    this.events?.publish({
      kind: 'audit',
      event_type: 'retention_policy_updated',
      action_type: 'UPDATE',
      entity_type: 'RETENTION_POLICY',
      entity_id: table,
      previous_value: auditValue(result.before),
      new_value: auditValue(result.after),
      reason: reason ?? null,
      duration_ms: Math.round(performance.now() - started),
      ...actorFields(ctx),
    });
    const [before, after] = [deletionDays(result.before), deletionDays(result.after)];
    // A cut deletes records sooner: whoever made it, it is a HIGH security event as well as an audit one.
    if (result.after.is_active && after < before) {
      this.events?.publish({
        kind: 'security',
        event_type: 'PROTECTION_WEAKENED',
        severity_level: 'HIGH',
        event_source: 'ADMIN_PANEL',
        event_description: `retention of ${table} cut from ${before} to ${after} days: records are deleted sooner`,
        resource_involved: `data_retention_policies/${table}`,
        action_taken: 'LOGGED_ONLY',
        event_category: 'CONFIGURATION_CHANGE',
        detection_method: 'retention_rules',
        ip_address: ctx.ip ?? null,
        metadata: { table, before_days: before, after_days: after, reason: reason ?? null, actor: ctx.actor ?? null },
      });
      await this.onCut?.({ setting_key: `retention.${table}`, before: String(before), after: String(after), risk: 'records are deleted sooner' });
    }
    return result.after;
  }
}

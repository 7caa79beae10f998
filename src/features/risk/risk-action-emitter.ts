import { derivedUuid } from '../../domain/derived-id';
import { OWN_SOURCE_APP } from '../../domain/own-source-app';
import type { RawEvent } from '../../schemas/event';
import type { RiskAction } from './domain/risk-action';
import type { RiskSubjectRepository } from './risk-subject.repository';
import type { SessionRepository } from '../auth/session.repository';
import type { WebhookNotifier } from '../webhooks/webhook-notifier';
import type { WebhookEventType } from '../../domain/webhook-events';

/** Where an action's events go: straight to the ClickHouse writer, in the worker that owns it. */
export interface EventSink {
  write(sourceApp: string, receivedAt: string, events: RawEvent[]): Promise<void>;
}

const WEBHOOK_TYPES: Record<RiskAction['action'], WebhookEventType | null> = {
  account_locked: 'subject.locked',
  account_unlocked: 'subject.unlocked',
  high_risk: 'subject.high_risk',
  ip_blocked: null,
};

/**
 * Emits what a committed action means to the outside: the audit and
 * security events (and rate_limit_violations for an IP block), the app's
 * webhook, and for a locked built-in user the end of their sessions. Every
 * event id derives from the action key, so emitting an action again (the
 * relay after a crash) stores nothing twice.
 */
export class RiskActionEmitter {
  constructor(private readonly d: { sink: EventSink; webhooks: WebhookNotifier; subjects: RiskSubjectRepository; sessions: SessionRepository }) {}

  async emit(actions: RiskAction[]): Promise<void> {
    if (actions.length === 0) return;
    const bySource = new Map<string, { at: string; events: RawEvent[] }>();
    for (const action of actions) {
      const group = bySource.get(action.source_app) ?? { at: action.payload.at, events: [] };
      group.events.push(...eventsOf(action));
      bySource.set(action.source_app, group);
    }
    await Promise.all([...[...bySource].map(([source, group]) => this.d.sink.write(source, group.at, group.events)), ...actions.map((a) => this.sideEffects(a))]);
    await this.d.subjects.markEmitted(actions.map((a) => a.action_key));
  }

  private async sideEffects(action: RiskAction): Promise<void> {
    const p = action.payload;
    if (action.action === 'account_locked' && p.built_in && action.subject_id) {
      // Whoever the risk worker locked out must not keep a session opened before the lock.
      await this.d.sessions.endAll('user', action.subject_id, 'risk_lock');
    }
    const type = WEBHOOK_TYPES[action.action];
    if (!type || p.built_in || action.source_app === OWN_SOURCE_APP || !action.subject_id) return;
    await this.d.webhooks.notify(action.source_app, type, derivedUuid(`${action.action_key}|webhook`), {
      created_at: p.at,
      user_id: action.subject_id,
      lock: { locked: action.action === 'account_locked', locked_until: p.locked_until ?? null, permanent: p.permanent ?? false, lock_count: p.lock_count ?? null },
      risk: p.risk_score === undefined ? null : { score: p.risk_score, level: p.risk_level, factors: p.factors ?? [] },
      reason: p.reason ?? null,
      trigger_event_id: p.trigger_event_id ?? null,
    });
  }
}

function eventsOf(action: RiskAction): RawEvent[] {
  const p = action.payload;
  const id = (part: string) => derivedUuid(`${action.action_key}|${part}`);
  const detection = { trigger_event_id: p.trigger_event_id ?? null, risk_score: p.risk_score ?? null, risk_level: p.risk_level ?? null, factors: p.factors ?? [] };
  const actor = { triggered_by_type: 'system', triggered_by_id: 'risk-worker' };
  switch (action.action) {
    case 'account_locked':
      return [
        {
          kind: 'audit',
          event_id: id('audit'),
          event_type: 'account_locked',
          occurred_at: p.at,
          user_id: action.subject_id,
          action_type: 'UPDATE',
          entity_type: 'USER_ACCOUNT',
          entity_id: action.subject_id,
          previous_value: { status: p.previous_status ?? null, locked_until: p.previous_locked_until ?? null },
          new_value: { status: p.status ?? 'locked', locked_until: p.locked_until ?? null, lock_count: p.lock_count ?? null, permanent: p.permanent ?? false },
          reason: p.reason ?? null,
          ip_address: action.ip_address ?? undefined,
          metadata: { ...detection, lock_minutes: p.lock_minutes ?? null, threat: p.threat ?? null },
          ...actor,
        },
        {
          kind: 'security',
          event_id: id('security'),
          event_type: p.threat === 'brute_force' || p.threat === 'distributed_brute_force' ? 'AUTHENTICATION_FAILURE' : 'SUSPICIOUS_ACTIVITY',
          occurred_at: p.at,
          severity_level: p.permanent ? 'CRITICAL' : 'HIGH',
          user_id: action.subject_id,
          user_email: p.email ?? null,
          event_source: p.built_in ? 'LOGIN_ENDPOINT' : 'RISK_ENGINE',
          event_description: `account locked ${p.permanent ? 'permanently (until an administrator unlocks it)' : `until ${p.locked_until}`}: ${p.reason ?? ''}`,
          ip_address: action.ip_address ?? undefined,
          action_taken: 'ACCOUNT_LOCKED',
          threat_type: p.threat ?? null,
          detection_method: 'risk_score',
          metadata: { ...detection, locked_until: p.locked_until ?? null, lock_count: p.lock_count ?? null },
        },
      ];
    case 'account_unlocked':
      return [
        {
          kind: 'audit',
          event_id: id('audit'),
          event_type: 'account_unlocked',
          occurred_at: p.at,
          user_id: action.subject_id,
          action_type: 'UPDATE',
          entity_type: 'USER_ACCOUNT',
          entity_id: action.subject_id,
          previous_value: { status: p.previous_status ?? 'locked', locked_until: p.previous_locked_until ?? null },
          new_value: { status: p.status ?? 'active', locked_until: null },
          reason: p.reason ?? null,
          metadata: { unlocked_by: p.unlocked_by ?? null },
          ...actor,
        },
        {
          kind: 'security',
          event_id: id('security'),
          event_type: 'SUSPICIOUS_ACTIVITY',
          occurred_at: p.at,
          severity_level: 'LOW',
          user_id: action.subject_id,
          user_email: p.email ?? null,
          event_source: p.built_in ? 'LOGIN_ENDPOINT' : 'RISK_ENGINE',
          event_description: `account unlocked: ${p.reason ?? ''}`,
          action_taken: 'ACCOUNT_UNLOCKED',
          detection_method: 'risk_score',
          metadata: { unlocked_by: p.unlocked_by ?? null, previous_locked_until: p.previous_locked_until ?? null },
        },
      ];
    case 'ip_blocked':
      return [
        {
          kind: 'rate_limit',
          event_id: id('rate_limit'),
          occurred_at: p.at,
          user_id: action.subject_id,
          // An ip_blocked action always names its IP.
          ip_address: action.ip_address!,
          endpoint: action.source_app === OWN_SOURCE_APP ? '/auth/login' : 'login',
          request_count: p.request_count ?? 0,
          limit_threshold: p.limit_threshold ?? 0,
          time_window_minutes: p.window_minutes ?? 0,
          violation_type: p.threat ?? 'login_abuse',
          blocked_duration_minutes: p.block_minutes ?? 0,
          unblocked_at: p.blocked_until ?? null,
        },
        {
          kind: 'security',
          event_id: id('security'),
          // What it is: a block for guessing (or other suspicious traffic), as severe as the decision's level said.
          event_type:
            p.threat === 'brute_force' || p.threat === 'distributed_brute_force' || p.threat === 'credential_stuffing' || p.threat === 'password_spraying'
              ? 'AUTHENTICATION_FAILURE'
              : 'SUSPICIOUS_ACTIVITY',
          occurred_at: p.at,
          severity_level: severityOf(p.risk_level),
          user_id: action.subject_id,
          event_source: action.source_app === OWN_SOURCE_APP ? 'LOGIN_ENDPOINT' : 'RISK_ENGINE',
          event_description: `${blockedWhat(action.ip_address!, p.blocked_range)} blocked at login for ${p.block_minutes} minutes: ${p.reason ?? ''}`,
          ip_address: action.ip_address,
          action_taken: 'IP_BLOCKED',
          event_category: 'IP_BLOCK',
          threat_type: p.threat ?? null,
          detection_method: 'risk_score',
          metadata: { ...detection, blocked_until: p.blocked_until ?? null, blocked_range: p.blocked_range ?? null },
        },
      ];
    case 'high_risk':
      return [];
  }
}

/** What an IP block covers, in words: the IPv4 address, or the IPv6 /64 or /48 the address stands for. */
function blockedWhat(ip: string, range: string | undefined): string {
  return range?.includes(':') ? `network ${range} (IP ${ip})` : `IP ${ip}`;
}

/** The security event's severity from the risk level that decided the action (HIGH when none is known). */
function severityOf(level: string | undefined): 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' {
  switch (level) {
    case 'critical':
      return 'CRITICAL';
    case 'medium':
      return 'MEDIUM';
    case 'low':
      return 'LOW';
    default:
      return 'HIGH';
  }
}

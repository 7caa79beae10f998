/** What the risk worker did; one row of risk_actions (the outbox its events and webhooks are emitted from). */
export type RiskActionKind = 'account_locked' | 'account_unlocked' | 'ip_blocked' | 'high_risk';

export interface RiskAction {
  action_key: string;
  action: RiskActionKind;
  source_app: string;
  subject_id: string | null;
  ip_address: string | null;
  payload: RiskActionPayload;
  created_at: Date;
}

/** Everything needed to emit an action's events and webhook again, identically. */
export interface RiskActionPayload {
  /** A built-in user (the users table) rather than an app's subject. */
  built_in?: boolean;
  email?: string | null;
  previous_status?: string | null;
  status?: string | null;
  locked_until?: string | null;
  previous_locked_until?: string | null;
  permanent?: boolean;
  lock_count?: number;
  lock_minutes?: number | null;
  /** Why, in words (the factors, or "lock expired"). */
  reason?: string;
  /** What it was: brute_force, credential_stuffing, impossible_travel… */
  threat?: string;
  trigger_event_id?: string | null;
  session_id?: string | null;
  risk_score?: number;
  risk_level?: string;
  factors?: { signal: string; points: number; reason: string }[];
  /** For an IP block: what it covers (an IPv4 address, an IPv6 /64, or an IPv6 site's /48). */
  blocked_range?: string;
  block_minutes?: number;
  blocked_until?: string;
  request_count?: number;
  limit_threshold?: number;
  window_minutes?: number;
  /** When the action took effect (ISO): the time of its events. */
  at: string;
  /** Who lifted a lock: expiry, the app, an administrator. */
  unlocked_by?: string;
}

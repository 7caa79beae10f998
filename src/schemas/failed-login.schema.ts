import { defineEventKind } from './define-event-kind';
import { int, ipAddress, jsonObject, text, timestamp, upperLabel, userId } from './fields';

/**
 * `failed_login`: todo_app_failed_login_attempts (docs/data-model.md). `user_id` is
 * null when the email matched no account; the email is kept as typed, valid
 * or not, because that is what an attacker tried.
 */
export const failedLoginEventSchema = defineEventKind(
  'failed_login',
  {
    user_id: userId().nullish(),
    email_address: text(320),
    /** INVALID_EMAIL, INVALID_PASSWORD, ACCOUNT_LOCKED, ACCOUNT_DISABLED, INVALID_MFA. */
    failure_reason: upperLabel(64),
    ip_address: ipAddress().nullish(),
    user_agent: text(2048).nullish(),
    attempt_number_in_window: int(0, 1_000_000).default(1),
    /** LOCKED, LOCKED_WITH_EMAIL_NOTIFICATION, LOCKOUT_TIMER_ACTIVE, or null. */
    lockout_status: upperLabel(64).nullish(),
    lockout_expires_at: timestamp().nullish(),
    metadata: jsonObject().optional(),
  },
  { table: 'failed_login_attempts', eventType: () => 'login_failed' },
);

import { defineEventKind } from './define-event-kind';
import { int, ipAddress, label, text, timestamp, userId } from './fields';

/** `rate_limit`: rate_limit_violations (docs/data-model.md). The stored event type is the `violation_type`. */
export const rateLimitEventSchema = defineEventKind(
  'rate_limit',
  {
    user_id: userId().nullish(),
    ip_address: ipAddress(),
    endpoint: label(2048),
    request_count: int(0, 2_147_483_647),
    limit_threshold: int(0, 2_147_483_647),
    time_window_minutes: int(0, 525_600),
    violation_type: label(64).nullish(),
    user_agent: text(2048).nullish(),
    blocked_duration_minutes: int(0, 525_600).default(0),
    unblocked_at: timestamp().nullish(),
  },
  { table: 'rate_limit_violations', eventType: (e) => e.violation_type ?? 'rate_limit_exceeded' },
);

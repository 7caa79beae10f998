import { z } from 'zod';
import { defineEventKind } from './define-event-kind';
import { ipAddress, jsonObject, label, text, timestamp, userId } from './fields';

/**
 * `session`: user_sessions (docs/data-model.md), one event per session state change.
 * Without an explicit `event_type`, a row with `logout_at` or
 * `is_active: false` is `session_ended`, otherwise `session_started`.
 */
export const sessionEventSchema = defineEventKind(
  'session',
  {
    session_id: label(255),
    user_id: userId().nullish(),
    device_fingerprint: text(255).nullish(),
    ip_address: ipAddress().nullish(),
    user_agent: text(2048).nullish(),
    location: jsonObject().optional(),
    last_activity_at: timestamp().nullish(),
    expires_at: timestamp(),
    is_active: z.boolean().default(true),
    logout_reason: label(64).nullish(),
    logout_at: timestamp().nullish(),
  },
  {
    table: 'user_sessions',
    eventType: (e) => (e.logout_at || !e.is_active ? 'session_ended' : 'session_started'),
  },
);

import { z } from 'zod';
import { defineEventKind } from './define-event-kind';
import { ipAddress, jsonObject, label, text, timestamp, upperLabel, userId } from './fields';

export const SEVERITY_LEVELS = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const;

/**
 * `security`: both seed tables of security events (docs/data-model.md):
 * todo_app_security_events (event_type, event_source, action_taken…) and
 * security_events (event_category, threat_type, mitigation_action…).
 * Where the two name one thing differently, security_events' name is an
 * alias: source_ip → ip_address, target_resource → resource_involved,
 * mitigation_action → action_taken. An event without `event_type` uses its
 * `event_category` as the type.
 */
export const securityEventSchema = defineEventKind(
  'security',
  {
    user_id: userId().nullish(),
    severity_level: upperLabel(16).pipe(z.enum(SEVERITY_LEVELS, { error: `must be one of ${SEVERITY_LEVELS.join(', ')}` })),
    user_email: text(320).nullish(),
    /** LOGIN_ENDPOINT, TODO_API, ADMIN_PANEL, UNKNOWN. */
    event_source: upperLabel(64).default('UNKNOWN'),
    event_description: text(4000).default(''),
    ip_address: ipAddress().nullish(),
    resource_involved: text(1024).nullish(),
    /** ACCOUNT_LOCKED, REQUEST_BLOCKED, THROTTLED, LOGGED_ONLY. */
    action_taken: upperLabel(64).nullish(),
    metadata: jsonObject().optional(),
    event_category: upperLabel(64).nullish(),
    threat_type: label(100).nullish(),
    attack_vector: label(100).nullish(),
    detection_method: label(100).nullish(),
    is_resolved: z.boolean().default(false),
    false_positive: z.boolean().default(false),
    analyst_notes: text(8000).nullish(),
    resolved_at: timestamp().nullish(),
    resolved_by: text(255).nullish(),
  },
  {
    table: 'security_events',
    eventType: (e) => e.event_category ?? '',
    aliases: { source_ip: 'ip_address', target_resource: 'resource_involved', mitigation_action: 'action_taken' },
  },
);

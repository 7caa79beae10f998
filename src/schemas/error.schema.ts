import { z } from 'zod';
import { defineEventKind } from './define-event-kind';
import { changeValue, int, label, lowerLabel, text, timestamp } from './fields';

export const ERROR_SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;

/** `error`: todo_app_error_logs (docs/data-model.md). The stored event type is the `error_type`. */
export const errorEventSchema = defineEventKind(
  'error',
  {
    /** TODOAPP-VAL-001 style code. */
    error_code: label(64),
    /** validation, authentication, authorization, database, network, server, storage, concurrency, data_integrity, system. */
    error_type: lowerLabel(64),
    severity_level: lowerLabel(16).pipe(z.enum(ERROR_SEVERITIES, { error: `must be one of ${ERROR_SEVERITIES.join(', ')}` })),
    /** The message the end user saw (seed: at most 500 characters). */
    error_message: label(500),
    /** Stack traces, sanitized SQL…: an object, or a string kept as `{ "value": … }`. */
    technical_details: changeValue().optional(),
    operation_type: label(64).nullish(),
    resource_id: text(255).nullish(),
    resource_type: label(64).nullish(),
    /** The user the error happened to. */
    user_context: text(255).nullish(),
    request_path: text(2048).nullish(),
    http_status_code: int(100, 599).nullish(),
    is_resolved: z.boolean().default(false),
    resolved_by_admin_id: text(255).nullish(),
    resolution_notes: text(8000).nullish(),
    resolved_verification_at: timestamp().nullish(),
    retention_expires_at: timestamp().nullish(),
  },
  { table: 'error_logs', eventType: (e) => e.error_type },
);

import type { ErrorCode } from './app-error';

/**
 * The TODOAPP-<CATEGORY>-<NNN> code of each error (todo_app_error_logs, docs/data-model.md):
 * categories AUTH, VAL, OP, SYS, REC, EDGE. Stable: clients and support
 * staff quote them.
 */
export const ERROR_CATALOG: Record<ErrorCode, { code: string; errorType: string; severity: 'critical' | 'high' | 'medium' | 'low' }> = {
  VALIDATION_FAILED: { code: 'TODOAPP-VAL-001', errorType: 'validation', severity: 'low' },
  BAD_REQUEST: { code: 'TODOAPP-VAL-002', errorType: 'validation', severity: 'low' },
  PAYLOAD_TOO_LARGE: { code: 'TODOAPP-VAL-003', errorType: 'validation', severity: 'low' },
  UNSUPPORTED_MEDIA_TYPE: { code: 'TODOAPP-VAL-004', errorType: 'validation', severity: 'low' },
  UNAUTHENTICATED: { code: 'TODOAPP-AUTH-001', errorType: 'authentication', severity: 'low' },
  FORBIDDEN: { code: 'TODOAPP-AUTH-002', errorType: 'authorization', severity: 'medium' },
  LOCKED: { code: 'TODOAPP-AUTH-003', errorType: 'authentication', severity: 'medium' },
  STEP_UP_REQUIRED: { code: 'TODOAPP-AUTH-004', errorType: 'authentication', severity: 'low' },
  NOT_FOUND: { code: 'TODOAPP-REC-001', errorType: 'validation', severity: 'low' },
  CONFLICT: { code: 'TODOAPP-OP-001', errorType: 'concurrency', severity: 'low' },
  UNPROCESSABLE: { code: 'TODOAPP-VAL-005', errorType: 'validation', severity: 'low' },
  GONE: { code: 'TODOAPP-REC-002', errorType: 'validation', severity: 'low' },
  RATE_LIMITED: { code: 'TODOAPP-OP-002', errorType: 'network', severity: 'medium' },
  INTERNAL: { code: 'TODOAPP-SYS-001', errorType: 'server', severity: 'critical' },
  UNAVAILABLE: { code: 'TODOAPP-SYS-002', errorType: 'system', severity: 'high' },
};

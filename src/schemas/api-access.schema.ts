import { defineEventKind } from './define-event-kind';
import { int, ipAddress, jsonObject, label, text, userId, uuid } from './fields';

/** Header values that are credentials: stored as "[redacted]", never in the clear. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-clickhouse-key']);

/** `api_access`: api_access_log (docs/data-model.md), one row per API request. */
export const apiAccessEventSchema = defineEventKind(
  'api_access',
  {
    user_id: userId().nullish(),
    request_id: uuid().optional(),
    method: label(16).transform((m) => m.toUpperCase()),
    endpoint: label(2048),
    request_headers: jsonObject()
      .optional()
      .transform((headers) => {
        if (!headers) return headers;
        for (const name in headers) if (SECRET_HEADERS.has(name.toLowerCase())) headers[name] = '[redacted]';
        return headers;
      }),
    request_body_hash: text(128).nullish(),
    response_status: int(100, 599).nullish(),
    response_time_ms: int(0, 2_147_483_647).nullish(),
    bytes_sent: int(0, Number.MAX_SAFE_INTEGER).default(0),
    bytes_received: int(0, Number.MAX_SAFE_INTEGER).default(0),
    ip_address: ipAddress().nullish(),
    user_agent: text(2048).nullish(),
    api_key_id: text(128).nullish(),
    rate_limit_remaining: int(0, 2_147_483_647).nullish(),
  },
  { table: 'api_access_log', eventType: () => 'api_request' },
);

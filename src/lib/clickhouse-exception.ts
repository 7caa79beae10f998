/**
 * A ClickHouse exception as the HTTP interface reports it, so clients that
 * parse ClickHouse errors (@clickhouse/client, JDBC, BI tools) read ours too.
 * A value rather than a thrown error: it crosses the control queue intact.
 */
export interface ClickHouseException {
  code: number;
  /** The upper-case name ClickHouse prints in parentheses: READONLY, SYNTAX_ERROR… */
  name: string;
  message: string;
}

/** The codes auditflow itself raises, with ClickHouse's numbers. */
export const CLICKHOUSE_ERROR_CODES = {
  NOT_IMPLEMENTED: 48,
  SYNTAX_ERROR: 62,
  UNKNOWN_FORMAT: 73,
  UNKNOWN_COMPRESSION_METHOD: 89,
  TIMEOUT_EXCEEDED: 159,
  TOO_MANY_SIMULTANEOUS_QUERIES: 202,
  READONLY: 164,
  QUERY_IS_TOO_LARGE: 229,
  INTO_OUTFILE_NOT_ALLOWED: 358,
  TOO_MANY_ROWS_OR_BYTES: 396,
  ACCESS_DENIED: 497,
  AUTHENTICATION_FAILED: 516,
  UNKNOWN_EXCEPTION: 1002,
} as const;

export type ClickHouseErrorName = keyof typeof CLICKHOUSE_ERROR_CODES;

export function clickHouseException(name: ClickHouseErrorName, message: string): ClickHouseException {
  return { code: CLICKHOUSE_ERROR_CODES[name], name, message };
}

/** `Code: 164. DB::Exception: …. (READONLY)`, the body ClickHouse sends with a failed query. */
export function clickHouseExceptionText(exception: ClickHouseException): string {
  const message = exception.message.trim();
  return `Code: ${exception.code}. DB::Exception: ${/[.!?]$/.test(message) ? message : `${message}.`} (${exception.name})\n`;
}

// ClickHouse's own mapping (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp) where it gives a 4xx, or a 5xx that says "come back later".
const STATUS_BY_CODE = new Map<number, number>([
  [194, 401], // REQUIRED_PASSWORD
  ...[192, 193, 497, 512].map((code): [number, number] => [code, 403]), // UNKNOWN_USER, WRONG_PASSWORD, ACCESS_DENIED, SET_NON_GRANTED_ROLE
  // BAD_ARGUMENTS, CANNOT_PARSE_*, DUPLICATE_COLUMN, ILLEGAL_COLUMN, THERE_IS_NO_COLUMN, *_AST, SYNTAX_ERROR, INCORRECT_DATA, TYPE_MISMATCH, VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  ...[6, 8, 15, 25, 26, 27, 36, 37, 38, 41, 44, 53, 62, 72, 117, 123, 167, 168, 223, 321, 376, 427, 441, 675, 676].map((code): [number, number] => [code, 400]),
  // UNKNOWN_FUNCTION, UNKNOWN_IDENTIFIER, UNKNOWN_TYPE, UNKNOWN_STORAGE, UNKNOWN_TABLE, UNKNOWN_AGGREGATE_FUNCTION, UNKNOWN_FORMAT, UNKNOWN_TYPE_OF_QUERY, UNKNOWN_DATABASE, UNKNOWN_SETTING, UNKNOWN_DIRECTION_OF_SORTING, UNKNOWN_DATABASE_ENGINE, UNKNOWN_ROLE
  ...[46, 47, 50, 56, 60, 63, 73, 78, 81, 115, 152, 336, 511].map((code): [number, number] => [code, 404]),
  [229, 413], // QUERY_IS_TOO_LARGE
  [209, 503], // SOCKET_TIMEOUT
  [76, 503], // CANNOT_OPEN_FILE
  [381, 411], // HTTP_LENGTH_REQUIRED
  [159, 408], // TIMEOUT_EXCEEDED
  [439, 503], // CANNOT_SCHEDULE_TASK
  [202, 503], // TOO_MANY_SIMULTANEOUS_QUERIES: come back later (auditflow sends Retry-After)
  [779, 415], // UNSUPPORTED_MEDIA_TYPE
  // Where ClickHouse says 500 but the request is at fault, and a 5xx would count an analyst's query as the server's error:
  [164, 403], // READONLY: a write, DDL or a setting this key may not change
  [48, 400], // NOT_IMPLEMENTED: auditflow raises it only for a request feature it does not take (compress=1, multipart)
]);

/**
 * Faults of the server or of the store, not of the query: they stay 5xx,
 * so monitoring sees them. Every other code ClickHouse does not map is an
 * exception it raised while judging the query (a wrong argument, a result
 * over the limits, a function it refuses), which is the client's to fix.
 */
const SERVER_FAULTS = new Map<number, number>([
  [1001, 500], // STD_EXCEPTION
  [1002, 500], // UNKNOWN_EXCEPTION
  [49, 500], // LOGICAL_ERROR
  [33, 500], // CANNOT_READ_ALL_DATA
  [40, 500], // CHECKSUM_DOESNT_MATCH
  [107, 500], // FILE_DOESNT_EXIST
  [246, 500], // CORRUPTED_DATA
  [173, 503], // CANNOT_ALLOCATE_MEMORY
  [210, 503], // NETWORK_ERROR
  [236, 503], // ABORTED
  [242, 503], // TABLE_IS_READ_ONLY
  [243, 507], // NOT_ENOUGH_SPACE
  [279, 503], // ALL_CONNECTION_TRIES_FAILED
  [394, 503], // QUERY_WAS_CANCELLED: the server stopped it (a client that hung up reads nothing)
]);

const MEMORY_LIMIT_EXCEEDED = 241;

/**
 * The HTTP status /clickhouse answers a failed query with. Clients read the
 * `Code: N` text and X-ClickHouse-Exception-Code, not the status, so a 4xx
 * where ClickHouse says 500 changes nothing for them, while the API's own
 * records (api_access_log, the request log) tell a bad query from a fault.
 */
export function httpStatusOfClickHouseException(exception: Pick<ClickHouseException, 'code' | 'message'>): number {
  const mapped = STATUS_BY_CODE.get(exception.code) ?? SERVER_FAULTS.get(exception.code);
  if (mapped !== undefined) return mapped;
  // The server's memory as a whole is busy (come back later); the query's own limit is the query's size.
  if (exception.code === MEMORY_LIMIT_EXCEEDED) return /\(total\)/.test(exception.message) ? 503 : 400;
  return 400;
}

/**
 * The exception inside an error @clickhouse/client threw (it parses
 * `Code: N … (NAME)` into `code` and `type`), or null when ClickHouse did not
 * judge the query (a lost connection, a bug of ours).
 */
export function clickHouseExceptionOf(error: unknown): ClickHouseException | null {
  const e = error as { code?: unknown; type?: unknown; message?: unknown } | null;
  const code = Number(e?.code);
  if (!e || !Number.isInteger(code) || code <= 0 || typeof e.type !== 'string' || !/^[A-Z0-9_]+$/.test(e.type)) return null;
  return { code, name: e.type, message: String(e.message ?? '').trim() };
}

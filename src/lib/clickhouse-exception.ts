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

// ClickHouse's own mapping (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp); every other code is a 500.
const STATUS_BY_CODE = new Map<number, number>([
  [194, 401], // REQUIRED_PASSWORD
  ...[192, 193, 497, 512].map((code): [number, number] => [code, 403]), // UNKNOWN_USER, WRONG_PASSWORD, ACCESS_DENIED, SET_NON_GRANTED_ROLE
  // BAD_ARGUMENTS, CANNOT_PARSE_*, DUPLICATE_COLUMN, ILLEGAL_COLUMN, THERE_IS_NO_COLUMN, *_AST, SYNTAX_ERROR, INCORRECT_DATA, TYPE_MISMATCH, VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  ...[6, 8, 15, 25, 26, 27, 36, 37, 38, 41, 44, 53, 62, 72, 117, 123, 167, 168, 223, 321, 376, 427, 441, 675, 676].map((code): [number, number] => [code, 400]),
  // UNKNOWN_FUNCTION, UNKNOWN_IDENTIFIER, UNKNOWN_TYPE, UNKNOWN_STORAGE, UNKNOWN_TABLE, UNKNOWN_AGGREGATE_FUNCTION, UNKNOWN_FORMAT, UNKNOWN_TYPE_OF_QUERY, UNKNOWN_DATABASE, UNKNOWN_SETTING, UNKNOWN_DIRECTION_OF_SORTING, UNKNOWN_DATABASE_ENGINE, UNKNOWN_ROLE
  ...[46, 47, 50, 56, 60, 63, 73, 78, 81, 115, 152, 336, 511].map((code): [number, number] => [code, 404]),
  [229, 413], // QUERY_IS_TOO_LARGE
  // TOO_DEEP_RECURSION: ClickHouse says 500, but a query nested 1,000 deep is the client's doing, not a server fault.
  [306, 400],
  [48, 501], // NOT_IMPLEMENTED
  [209, 503], // SOCKET_TIMEOUT
  [76, 503], // CANNOT_OPEN_FILE
  [381, 411], // HTTP_LENGTH_REQUIRED
  [159, 408], // TIMEOUT_EXCEEDED
  [439, 503], // CANNOT_SCHEDULE_TASK
  [202, 503], // TOO_MANY_SIMULTANEOUS_QUERIES: come back later (auditflow sends Retry-After)
  [779, 415], // UNSUPPORTED_MEDIA_TYPE
]);

/** The HTTP status ClickHouse answers a failed query with. */
export function httpStatusOfClickHouseCode(code: number): number {
  return STATUS_BY_CODE.get(code) ?? 500;
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

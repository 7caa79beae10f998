/** One query on /clickhouse, as the HTTP request gave it. */
export interface AnalystQueryRequest {
  /** The `query` parameter, a line break, then the body: as ClickHouse joins them. */
  query: string;
  /** The `param_*` values, names without the prefix. */
  params: Record<string, string>;
  /** Every other URL parameter that ClickHouse would read as a setting. */
  settings: Record<string, string>;
  /** The format when the query names none (default_format, X-ClickHouse-Format, else TabSeparated). */
  defaultFormat: string;
  queryId: string;
  /** The apps the key may read, from the key (never from the request); absent or null: every app. */
  apps?: string[] | null;
}

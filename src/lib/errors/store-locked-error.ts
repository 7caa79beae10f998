/** Raised when another live process already holds the embedded ClickHouse store. */
export class StoreLockedError extends Error {
  constructor(
    readonly storePath: string,
    readonly ownerPid: number | null,
  ) {
    super(
      `The embedded ClickHouse store at ${storePath} is in use by another auditflow process` +
        `${ownerPid ? ` (pid ${ownerPid})` : ''}; only one process may own it. Stop that process, ` +
        `use a different DATA_DIR, or set CLICKHOUSE_URL to share a ClickHouse server.`,
    );
    this.name = 'StoreLockedError';
  }
}

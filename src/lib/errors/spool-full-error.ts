/** The spool has no room for a batch: Redis has been down long enough to fill SPOOL_MAX_BYTES. */
export class SpoolFullError extends Error {
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`the event spool is full (${bytes} of ${maxBytes} bytes) and Redis is unreachable`);
    this.name = 'SpoolFullError';
  }
}

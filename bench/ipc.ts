/** Messages between the bench (parent) and its child processes. */

export type ToServer =
  | { type: 'visible'; reqId: number; ids: string[] }
  | { type: 'count'; reqId: number }
  /** Event-loop utilisation of the server's main thread since the previous `elu` request. */
  | { type: 'elu'; reqId: number }
  /** Starts / stops a V8 CPU profile of the server's main thread (written to `file` on stop). */
  | { type: 'profile'; reqId: number; action: 'start' | 'stop'; file?: string }
  | { type: 'stop' };

export type FromServer =
  /** port is absent when the child runs no api role (BENCH_SPLIT_ROLES worker child). */
  | { type: 'ready'; port?: number }
  | { type: 'visible'; reqId: number; ids: string[] }
  | { type: 'count'; reqId: number; count: number }
  | { type: 'elu'; reqId: number; utilization: number }
  | { type: 'profile'; reqId: number }
  | { type: 'error'; reqId?: number; message: string };

export interface RawInsertResult {
  type: 'raw-insert';
  batchSize: number;
  batches: number;
  rows: number;
  /** Wall time spent inside client.insert, summed over the measured batches. */
  insertMs: number;
  /** rows/s of each measured batch. */
  perBatchRowsPerSec: number[];
  /** Rows in the table afterwards (checks nothing was dropped as a duplicate block). */
  countAfter: number;
  jsonBytesPerRow: number;
}

/** Narrows an IPC message without trusting its shape. */
export function isMessage<T extends { type: string }>(value: unknown): value is T {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

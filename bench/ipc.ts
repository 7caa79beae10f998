/** Messages between the bench (parent) and the child processes it forks: (a), the preload and the bare server. */

/** A child that serves HTTP says on which port. */
export interface Ready {
  type: 'ready';
  port: number;
}

/** Asks a child to stop. */
export interface Stop {
  type: 'stop';
}

export interface RawInsertResult {
  type: 'raw-insert';
  batchSize: number;
  batches: number;
  rows: number;
  /** Wall time spent inside the insert, summed over the measured batches. */
  insertMs: number;
  /** rows/s of each measured batch. */
  perBatchRowsPerSec: number[];
  /** Rows in the table afterwards (checks nothing was dropped as a duplicate block). */
  countAfter: number;
  jsonBytesPerRow: number;
}

export interface PreloadResult {
  type: 'preload';
  rows: number;
  /** The INSERT … SELECT. */
  insertMs: number;
  /** Waiting for the merges it started to finish (bounded). */
  settleMs: number;
  /** No merge was running at the end of the wait. */
  settled: boolean;
  partsAfterInsert: number;
  parts: number;
  partitions: number;
  rowsInTable: number;
  bytesOnDisk: number;
}

/** Narrows an IPC message without trusting its shape. */
export function isMessage<T extends { type: string }>(value: unknown): value is T {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

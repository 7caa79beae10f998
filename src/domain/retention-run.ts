/** What one retention run archived and pruned. */
export interface PruneResult {
  table: string;
  up_to_seq: number;
  rows_pruned: number;
  cutoff: string;
}

export interface RetentionRun {
  archived: ArchiveResult[];
  pruned: PruneResult[];
}

export interface ArchiveResult {
  table: string;
  from_seq: number;
  to_seq: number;
  rows: number;
  /** The data file, relative to the archive directory. */
  file: string;
}

/** How the flushes of one table follow each other (ClickHouseWriter): what each tells the next. */

/** One flush of one table, as the table's next flush sees it. */
export interface FlushRun {
  /** The next flush may run its duplicate check: this one has checked, and the one before it has ended. */
  successorMayCheck: Promise<void>;
  /**
   * Sealed: identity → content_hash of the rows its first seal holds (the rows it means to insert), or
   * undefined if it failed before. The next flush may seal after these, before this one has inserted.
   * Never rejects.
   */
  sealed: Promise<Map<string, string> | undefined>;
  /** Ended: the rows it inserted, or undefined if it failed. Never rejects. */
  inserted: Promise<FlushResult | undefined>;
}

export interface FlushResult {
  /** identity → content_hash of the rows inserted. */
  rows: Map<string, string>;
  /** They are the rows it announced as `sealed`, under that seal: a flush that sealed after it stands. */
  asSealed: boolean;
}

/** What a flush tells the next one as it goes. */
export interface FlushSteps {
  checked: () => void;
  announce: (sealed: Map<string, string>) => void;
}

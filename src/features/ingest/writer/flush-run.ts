/** How the flushes of one table follow each other (ClickHouseWriter): what each tells the next. */

/** One flush of one table, as the table's next flush sees it. */
export interface FlushRun {
  /**
   * The next flush may run its duplicate check: this one has checked, the one before it has sealed, and
   * the rows of the one before that are stored as sealed (or it has ended).
   */
  successorMayCheck: Promise<void>;
  /** The `sealed` of the flush before this one. */
  sealedBefore?: Promise<Map<string, string> | undefined>;
  /** The rows of the flush before this one are stored as sealed, or it has ended. */
  rowsBeforeStored: Promise<void>;
  /**
   * Sealed: identity → content_hash of the rows its first seal holds (the rows it means to insert), or
   * undefined if it failed before. The next flush may seal after these, before this one has inserted.
   * Never rejects.
   */
  sealed: Promise<Map<string, string> | undefined>;
  /**
   * Stored: true once the rows it announced as `sealed` are inserted under that seal, so a flush sealed
   * after it stands and may insert (while this one still finalizes its seal); false once they will not
   * be (it failed, sealed again, or lost its seal to a poison row). Never rejects.
   */
  stored: Promise<boolean>;
  /** Ended: identity → content_hash of the rows it inserted, or undefined if it failed. Never rejects. */
  inserted: Promise<Map<string, string> | undefined>;
}

/** What a flush tells the next one as it goes. */
export interface FlushSteps {
  checked: () => void;
  announce: (sealed: Map<string, string>) => void;
  stored: (asSealed: boolean) => void;
}

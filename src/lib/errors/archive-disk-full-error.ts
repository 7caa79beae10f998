/** The archive directory's disk is full: nothing was archived (no partial file is left), and so nothing is pruned. */
export class ArchiveDiskFullError extends Error {
  constructor(
    readonly dir: string,
    cause: unknown,
  ) {
    super(`the archive directory ${dir} is full: nothing was archived or pruned; free space (or move ARCHIVE_DIR) and retention runs again`, { cause });
    this.name = 'ArchiveDiskFullError';
  }
}

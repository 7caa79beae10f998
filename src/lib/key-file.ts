import { randomBytes } from 'node:crypto';
import fs from 'node:fs';

const tmpName = (file: string) => `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;

/**
 * Creates `file` (mode 0600) unless it exists. Atomic: the content is written
 * to a temporary file first and linked into place, so roles starting at once
 * on a shared keys volume see no file or the whole file, never half of one.
 * Returns false when another process created it first.
 */
export function createFileOnce(file: string, content: string | Buffer): boolean {
  const tmp = tmpName(file);
  fs.writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Replaces `file` (mode 0600 unless told) atomically: readers see the old
 * content or the new, whole. A failed write (ENOSPC) leaves no temporary file.
 */
export function replaceFile(file: string, content: string | Buffer, mode = 0o600): void {
  const tmp = tmpName(file);
  try {
    fs.writeFileSync(tmp, content, { mode, flag: 'wx' });
    fs.renameSync(tmp, file);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw error;
  }
}

import fs from 'node:fs';
import path from 'node:path';

/**
 * Owner-only from here on: every file and directory this process creates,
 * including chDB's own (native code honours the process umask), gets no
 * group or other bits. Call before anything opens the store.
 */
export function ownerOnlyUmask(): void {
  process.umask(0o077);
}

/**
 * Creates `dir` owner-only, or makes an existing tree so (dirs 0700,
 * files 0600): a store written by an older version, under umask 022, must
 * not stay readable by every local user. Symlinks are left alone, never followed.
 */
export function makePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    fs.chmodSync(current, 0o700);
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else if (entry.isFile()) chmodIfLoose(full, 0o700);
    }
  }
}

function chmodIfLoose(file: string, mode: number): void {
  try {
    const current = fs.statSync(file).mode & 0o777;
    if ((current & 0o077) !== 0) fs.chmodSync(file, current & mode);
  } catch (error) {
    // A file removed while we walked is no longer ours to fix.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

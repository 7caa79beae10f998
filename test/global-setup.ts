import fs from 'node:fs';
import path from 'node:path';

/** Where the run's temporary files go when the machine has a RAM-backed filesystem. */
const SHARED_MEMORY = '/dev/shm';

/**
 * Puts the run's temporary files (each file's chDB store, spool and keys, the
 * throwaway PostgreSQL) in a directory of its own on /dev/shm, when there is one
 * and TMPDIR is not set. Test files create and delete thousands of small files
 * in seconds; on an ext4 without a journal (these machines) creating files
 * among ones just deleted costs the kernel most of the suite's system time.
 * Jest's workers start after this and inherit TMPDIR, as do the servers and
 * CLI processes the tests spawn. global-teardown.ts removes the directory.
 */
export default function globalSetup(): void {
  if (process.env.TMPDIR || !isWritableDirectory(SHARED_MEMORY)) return;
  const dir = fs.mkdtempSync(path.join(SHARED_MEMORY, 'auditflow-test-'));
  // Like /tmp: the throwaway PostgreSQL runs as the postgres user and must reach its directory.
  fs.chmodSync(dir, 0o1777);
  process.env.TMPDIR = dir;
  process.env.AUDITFLOW_TEST_RUN_TMPDIR = dir;
}

function isWritableDirectory(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

import fs from 'node:fs';
import { RUN_DIR_PREFIX } from './global-setup';

/** Removes the run's temporary directory that global-setup.ts made (and nothing the user chose). */
export default function globalTeardown(): void {
  const dir = process.env.AUDITFLOW_TEST_RUN_TMPDIR;
  if (!dir?.startsWith(RUN_DIR_PREFIX)) return;
  fs.rmSync(dir, { recursive: true, force: true });
  delete process.env.AUDITFLOW_TEST_RUN_TMPDIR;
}

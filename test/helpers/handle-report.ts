/**
 * Opt-in diagnostic for "A worker process has failed to exit gracefully":
 * with JEST_HANDLE_REPORT=<dir>, each Jest worker appends the kinds and
 * counts of its live handles as each test file starts. Files run one after
 * another in a worker, so a handle one file leaks shows as growth at the
 * start of the next.
 */
import fs from 'node:fs';
import path from 'node:path';

const dir = process.env.JEST_HANDLE_REPORT;
if (dir) {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  fs.mkdirSync(dir, { recursive: true });
  fs.appendFileSync(path.join(dir, `${process.pid}.log`), `${new Date().toISOString()} ${path.relative(process.cwd(), expect.getState().testPath ?? '?')} ${JSON.stringify(counts)}\n`);
}

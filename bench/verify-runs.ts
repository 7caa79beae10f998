import { spawn } from 'node:child_process';
import path from 'node:path';

/** What one run of bench/verify.bench.ts printed. */
export interface VerifyRun {
  rows: number;
  /** Rows/s of the real ClickHouseWriter with sealing, fed as the worker feeds it (400 slots of 100-row jobs). */
  writeRowsPerSec: number;
  /** Rows/s of the same writer given one 10k-row write at a time (the measure before 2026-12-07). */
  serialWriteRowsPerSec: number;
  /** Median of three verifications, rows/s. */
  verifyRowsPerSec: number;
  verifyRuns: number[];
  peakHeapMb: number;
  seconds: number;
  /** What it printed, for a reader when a figure could not be read. */
  output: string;
  ok: boolean;
}

/**
 * Runs `node --expose-gc dist-bench/bench/verify.bench.js` with
 * BENCH_VERIFY_ROWS=rows in a process of its own (its own chDB store and
 * PostgreSQL database, which it drops) and reads its figures from the lines
 * it prints. The verify bench is left as its authors wrote it; if its output
 * changes, the figures read n/a and its output is shown.
 */
export function runVerifyBench(rows: number, log: (line: string) => void): Promise<VerifyRun> {
  const started = performance.now();
  const script = path.join(__dirname, 'verify.bench.js');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', script], { env: { ...process.env, BENCH_VERIFY_ROWS: String(rows) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => {
      const num = (re: RegExp) => Number(re.exec(output)?.[1] ?? NaN);
      const runs = /verify: median \d+ rows\/s \(runs: ([\d, .]+)\)/.exec(output)?.[1]?.split(',').map(Number) ?? [];
      const result: VerifyRun = {
        rows,
        writeRowsPerSec: num(/write with sealing, as the worker feeds it: (\d+(?:\.\d+)?) rows\/s/),
        serialWriteRowsPerSec: num(/write with sealing, one 10k-row write at a time: (\d+(?:\.\d+)?) rows\/s/),
        verifyRowsPerSec: num(/verify: median (\d+(?:\.\d+)?) rows\/s/),
        verifyRuns: runs,
        peakHeapMb: num(/peak heap during verify: (\d+) MB/),
        seconds: (performance.now() - started) / 1000,
        output: output.slice(-4000),
        ok: code === 0,
      };
      if (!result.ok || !Number.isFinite(result.verifyRowsPerSec) || !Number.isFinite(result.writeRowsPerSec)) {
        log(`verify bench (${rows} rows) exited ${code}; its output:\n${result.output}`);
      }
      resolve(result);
    });
  });
}

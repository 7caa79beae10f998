import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/lib/logger';

/** A real logger (with the product's redaction) whose JSON lines are kept for a test to read. */
export function captureLogs(level = 'info'): { logger: Logger; lines: string[]; parsed: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const logger = createLogger(
    level,
    {},
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/lib/logger';

/** A logger whose JSON lines are kept, parsed, for a test to read. */
export function capturingLogger(level = 'warn'): { logger: Logger; lines: { msg: string; [field: string]: unknown }[] } {
  const lines: { msg: string; [field: string]: unknown }[] = [];
  const logger = createLogger(
    level,
    {},
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
  return { logger, lines };
}

import pino, { type Logger } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line. */
const REDACT = [
  'password',
  '*.password',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'key',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-clickhouse-key"]',
  'headers.authorization',
  '*.password_hash',
  '*.secret',
];

/** JSON logger; secrets are redacted here, once, rather than at every call site. */
export function createLogger(level: string, base: Record<string, unknown> = {}, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'auditflow', ...base },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

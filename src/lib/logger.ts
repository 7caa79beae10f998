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

/**
 * pino's error serializer, without the arguments of a failed Redis command.
 * ioredis puts the whole command on its errors (`command.args`): for a job
 * add refused with OOM that is every event of the group, megabytes, logged
 * once per refused request. Under a flood those lines filled gigabytes of
 * log buffer; they would also put event contents in the logs.
 */
export function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown;
  const strip = (value: unknown, depth: number): void => {
    if (!value || typeof value !== 'object' || depth > 5) return;
    const record = value as { command?: unknown; cause?: unknown };
    if (record.command && typeof record.command === 'object') {
      const { name } = record.command as { name?: unknown };
      record.command = { name };
    }
    strip(record.cause, depth + 1);
  };
  strip(serialized, 0);
  return serialized;
}

/** JSON logger; secrets are redacted here, once, rather than at every call site. */
export function createLogger(level: string, base: Record<string, unknown> = {}, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'auditflow', ...base },
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: { err: serializeError },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { ConfigError } from '../lib/errors/config-error';
import type { ClickHouseConfig } from '../lib/clickhouse';
import { PLAIN_IDENTIFIER } from '../lib/clickhouse-identifier';
import type { MailConfig } from '../lib/mailer';

export const ROLES = ['api', 'worker', 'scheduler', 'all'] as const;
export type Role = (typeof ROLES)[number];

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

/**
 * Every environment variable auditflow reads, with its default.
 * Parsed once by {@link loadConfig}; nothing else reads process.env.
 */
function isCidr(text: string): boolean {
  try {
    ipaddr.parseCIDR(text);
    return true;
  } catch {
    return false;
  }
}

const envSchema = z.object({
  /** Which roles this process runs: api, worker, scheduler, or all (comma-separated). */
  ROLE: z
    .string()
    .default('all')
    .transform((value) =>
      value
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(ROLES)).min(1)),
  PORT: int(0, 65535).default(3000),
  /**
   * Port of a small ops server with /metrics, /healthz and /readyz, so a
   * worker-only or scheduler-only process can be scraped and probed.
   * Unset: none (the api role serves the same endpoints on PORT).
   */
  METRICS_PORT: int(0, 65535).optional(),
  /**
   * Where the worker role runs when this process also runs the api or the
   * scheduler: `separate` (a child process, so HTTP and ingest work use two
   * cores) or `inline` (this process, one core).
   */
  WORKER_PROCESS: z.enum(['separate', 'inline']).default('separate'),
  /**
   * The nice value of that child process (0–19): the API's requests get a
   * core first, and ingest work takes what they leave. 10 trades about a
   * tenth of the batch rate at saturation for a sixth more single posts and
   * a quarter off their p99 (docs/performance.md); 0 turns it off.
   */
  WORKER_NICE: int(0, 19).default(10),
  HOST: z.string().min(1).default('0.0.0.0'),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/auditflow'),
  DATA_DIR: z.string().min(1).default('./data'),
  CLICKHOUSE_URL: url(['http:', 'https:']).optional(),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  /**
   * Name of a ClickHouse cluster (remote_servers in the server's config).
   * Set: migrations create ReplicatedMergeTree tables and Distributed tables
   * ON CLUSTER (docs/deploy.md). Unset: one server, plain MergeTree.
   */
  CLICKHOUSE_CLUSTER: z.string().regex(PLAIN_IDENTIFIER, 'must be a plain identifier (letters, digits, underscore)').optional(),
  CLICKHOUSE_DATABASE: z.string().regex(PLAIN_IDENTIFIER, 'must be a plain identifier (letters, digits, underscore)').default('auditflow'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Namespace for every Redis key (BullMQ queues, idempotency records). */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'must contain only letters, digits, dot, dash and underscore')
    .default('auditflow'),
  /**
   * The ClickHouse writer flushes a table when it holds this many rows…
   * A larger flush costs less per row but makes its rows visible later: at
   * the highest rate the server sustains, 5,000 keeps 202 → visible p99 under
   * 2 s (docs/performance.md).
   */
  FLUSH_MAX_ROWS: int(1, 1_000_000).default(5_000),
  /** …or when its oldest buffered row is this old (or, if the table's previous flush is still running then, as soon as it ends). */
  FLUSH_MAX_AGE_MS: int(10, 60_000).default(500),
  /**
   * Jobs one worker process holds at once; more jobs in flight means larger
   * flushes (a table flushes once a quarter of them wait in it). 400 over 200
   * cut the worker's CPU per single-event post by a fifth (docs/performance.md);
   * memory is bounded by WORKER_MAX_HELD_EVENTS, not by this.
   */
  WORKER_CONCURRENCY: int(1, 10_000).default(400),
  /**
   * …and at most about this many events: past it, no job is taken until some
   * are written. It bounds the worker's memory with large posts: 20,000 is
   * what 200 jobs of 100 events held before the slots went to 400, so a
   * batch load is admitted as before.
   */
  WORKER_MAX_HELD_EVENTS: int(1, 10_000_000).default(20_000),
  /** Attempts per ingest job before its events go to dead letters. */
  JOB_ATTEMPTS: int(1, 100).default(12),
  /** How long a worker owns a job; a killed worker's jobs are re-run after this. */
  JOB_LOCK_MS: int(1000, 600_000).default(30_000),
  /** First retry delay; later retries double it. */
  JOB_BACKOFF_MS: int(1, 600_000).default(1000),
  /** Attempts per webhook call (lock, unlock, high risk) before it is given up. */
  WEBHOOK_ATTEMPTS: int(1, 100).default(10),
  /** First webhook retry delay; later retries double it. */
  WEBHOOK_BACKOFF_MS: int(1, 600_000).default(2000),
  /**
   * CIDRs that webhooks may reach although they are not public addresses
   * (loopback, RFC 1918, link-local…), for receivers on premises: e.g.
   * `10.20.0.0/16,192.168.5.7/32`. Empty (the default): public addresses only.
   */
  WEBHOOK_ALLOWED_CIDRS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean),
    )
    .refine((list) => list.every((c) => isCidr(c)), 'must be a comma-separated list of CIDRs, e.g. 10.20.0.0/16,fd00::/8'),
  /** Days audit, auth and security records are kept at least, whatever a retention policy says (domain/retention-floor.ts). */
  RETENTION_MIN_DAYS: int(0, 36_500).default(365),
  /** Largest accepted request body. */
  BODY_LIMIT_BYTES: int(1024, 100 * 1024 * 1024).default(5 * 1024 * 1024),
  /** Events waiting in the ingest queue above which the API answers 429. */
  MAX_QUEUE_BACKLOG: int(1, 100_000_000).default(500_000),
  /**
   * Most bytes the spool ($DATA_DIR/spool) may hold: the API's own events wait there while Redis is
   * unreachable. When it is full, the API's routes answer 503 rather than act without recording.
   */
  SPOOL_MAX_BYTES: int(1024 * 1024, 1024 * 1024 * 1024 * 1024).default(256 * 1024 * 1024),
  /**
   * How long the ClickHouse writer may fail every flush (a full disk, a broken store) before ingest
   * answers 503 instead of queueing more it cannot write. 0 turns the shedding off.
   */
  WRITER_STALL_MS: int(0, 3_600_000).default(30_000),
  /** /readyz fails while the filesystem of DATA_DIR has less free space than this. */
  DISK_MIN_FREE_BYTES: int(0, Number.MAX_SAFE_INTEGER).default(256 * 1024 * 1024),
  /**
   * A client-chosen event_id is remembered in Redis, for fast repost and 409 detection, for at least
   * this many minutes and at most twice it (replaces IDEMPOTENCY_TTL_SECONDS, which is no longer read).
   */
  IDEMPOTENCY_WINDOW_MINUTES: int(1, 24 * 60).default(10),
  /**
   * Rows the ClickHouse writer checks an incoming event against: those received up to this many minutes
   * before it, and, at any age, those with the same occurred_at (README "Exactly once").
   */
  WRITER_LOOKBACK_MINUTES: int(1, 7 * 24 * 60).default(30),
  /**
   * While the oldest events not yet written were queued longer ago than this, ingest answers 429: those
   * waiting for a worker and those a worker holds until its next flush. 0 turns it off.
   */
  INGEST_MAX_LAG_MS: int(0, 3_600_000).default(1000),
  /**
   * While an API process's event loop is busy more than this share of the time (percent) and 64 posts are in flight in it, its ingest refuses
   * a share of new posts (429, before reading the body), halved each busy 100 ms. 0 turns it off.
   */
  INGEST_MAX_BUSY_PERCENT: int(0, 100).default(95),
  /** How long a validated API key stays cached in memory (revocations take effect within this). */
  API_KEY_CACHE_MS: int(0, 600_000).default(5000),
  /**
   * How long a query of the API's requests may wait for PostgreSQL's answer before the request is
   * answered 503: a server that stops answering without closing its connections otherwise holds
   * them for ever. The workers' and migrations' queries (which wait on locks) have no such bound.
   */
  PG_REQUEST_TIMEOUT_MS: int(1000, 600_000).default(15_000),
  /**
   * How long a process reuses the system settings it read (lockout thresholds, rate limits, risk
   * policy) before reading them again: a change made in SQL, or through another process, takes
   * effect within this. A change through this process's own admin API takes effect at once.
   */
  SETTINGS_CACHE_MS: int(0, 60_000).default(2000),
  SHUTDOWN_TIMEOUT_MS: int(1000, 600_000).default(30_000),
  /** Bearer token a Prometheus scraper sends to GET /metrics. Unset: /metrics answers only loopback clients. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Base URL put in mailed links (verification, password reset). Default http://localhost:$PORT. */
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  /** SMTP server for mail, e.g. smtp://user:pass@host:587. Unset: mails are written as files under $DATA_DIR/mail. */
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  MAIL_FROM: z.string().min(3).default('auditflow <no-reply@auditflow.local>'),
  /**
   * Where generated keys live (signing-key.pem, settings.key, retired public keys).
   * Default $DATA_DIR/keys. Every role of one deployment must see the same keys:
   * give separate containers one shared volume here, or configure the keys.
   */
  KEYS_DIR: z.string().min(1).optional(),
  /** PEM file of the Ed25519 key that signs seals and reports. Unset: generated once as $KEYS_DIR/signing-key.pem. */
  SIGNING_KEY_FILE: z.string().min(1).optional(),
  /** Where retention archives go (data files and signed manifests). Unset: $DATA_DIR/archive. */
  ARCHIVE_DIR: z.string().min(1).optional(),
  /** 32-byte key (hex or base64) encrypting is_encrypted settings. Unset: generated once as $KEYS_DIR/settings.key. */
  SETTINGS_ENCRYPTION_KEY: z
    .string()
    .refine((v) => Buffer.from(v, /^[0-9a-f]{64}$/i.test(v) ? 'hex' : 'base64').length === 32, 'must be 32 bytes, as 64 hex characters or base64')
    .optional(),
  /** Seconds one query on /clickhouse may run (max_execution_time). */
  ANALYST_MAX_EXECUTION_TIME: int(1, 3600).default(30),
  /** Rows one query on /clickhouse may return; more is an error, not a truncation (max_result_rows). */
  ANALYST_MAX_RESULT_ROWS: int(1, 100_000_000).default(100_000),
  /** Uncompressed bytes one query on /clickhouse may return (max_result_bytes). */
  ANALYST_MAX_RESULT_BYTES: int(1024, 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  /** Memory one query on /clickhouse may use, so it cannot starve the writer (max_memory_usage). */
  ANALYST_MAX_MEMORY_USAGE: int(16 * 1024 * 1024, 256 * 1024 * 1024 * 1024).default(1024 * 1024 * 1024),
  /** Queries on /clickhouse one API process runs at once; more wait for none: 503 with Retry-After. */
  ANALYST_MAX_CONCURRENT_QUERIES: int(1, 1000).default(4),
});

export type Config = {
  roles: Role[];
  port: number;
  /** The ops server's port (METRICS_PORT), when one is wanted. */
  metricsPort?: number;
  /** WORKER_PROCESS: run the worker role in a child process (with other roles only). */
  workerProcess: 'separate' | 'inline';
  /** WORKER_NICE: the worker process's scheduling priority, as nice(1) gives it. */
  workerNice: number;
  host: string;
  redisUrl: string;
  databaseUrl: string;
  /** PG_REQUEST_TIMEOUT_MS: the API's request-path queries wait this long for an answer. */
  pgRequestTimeoutMs: number;
  dataDir: string;
  clickhouse: ClickHouseConfig;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  queuePrefix: string;
  flush: { maxRows: number; maxAgeMs: number; lookbackMinutes: number };
  worker: { concurrency: number; maxHeldEvents: number; attempts: number; backoffMs: number; lockMs: number };
  webhooks: { attempts: number; backoffMs: number; allowedCidrs: string[] };
  ingest: { bodyLimitBytes: number; maxQueueBacklog: number; maxLagMs: number; maxBusyPercent: number; idempotencyWindowMinutes: number; apiKeyCacheMs: number; writerStallMs: number };
  /** /readyz's floor for the free space of DATA_DIR's filesystem. */
  diskMinFreeBytes: number;
  /** Where the API's own events wait while Redis is unreachable. */
  spool: { dir: string; maxBytes: number };
  shutdownTimeoutMs: number;
  metricsToken?: string;
  publicUrl: string;
  mail: MailConfig;
  settingsEncryptionKey?: string;
  /** How long system settings read from PostgreSQL are reused (SETTINGS_CACHE_MS). */
  settingsCacheMs: number;
  signingKeyFile?: string;
  keysDir: string;
  /** Retention archives: one folder per table. */
  archiveDir: string;
  /** Limits of every query on /clickhouse. */
  analyst: AnalystLimits;
  /** Analyst queries one API process runs at once. */
  analystMaxConcurrentQueries: number;
  /** The floor of retention for audit, auth and security tables, in days. */
  retentionMinDays: number;
};

/** Parses and validates the environment once, at start. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset": `PORT= npm start` should fall back to the default.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'environment');
        const got = cleaned[name] === undefined ? '' : ` (got ${JSON.stringify(cleaned[name])})`;
        return `${name}: ${issue.message}${got}`;
      }),
    );
  }
  const e = parsed.data;
  if (e.CLICKHOUSE_CLUSTER && !e.CLICKHOUSE_URL) {
    throw new ConfigError([`CLICKHOUSE_CLUSTER: needs CLICKHOUSE_URL; the embedded store is one node (got ${JSON.stringify(e.CLICKHOUSE_CLUSTER)})`]);
  }
  const dataDir = path.resolve(e.DATA_DIR);
  const roles = e.ROLE.includes('all') ? (['api', 'worker', 'scheduler'] as Role[]) : [...new Set(e.ROLE)];
  if (roles.includes('api') && e.METRICS_PORT !== undefined && e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT) {
    throw new ConfigError([`METRICS_PORT: must differ from PORT, which the api role listens on (got ${e.METRICS_PORT})`]);
  }
  return {
    roles,
    port: e.PORT,
    metricsPort: e.METRICS_PORT,
    workerProcess: e.WORKER_PROCESS,
    workerNice: e.WORKER_NICE,
    host: e.HOST,
    redisUrl: e.REDIS_URL,
    databaseUrl: e.DATABASE_URL,
    pgRequestTimeoutMs: e.PG_REQUEST_TIMEOUT_MS,
    dataDir,
    clickhouse: e.CLICKHOUSE_URL
      ? {
          mode: 'server',
          url: e.CLICKHOUSE_URL,
          user: e.CLICKHOUSE_USER,
          password: e.CLICKHOUSE_PASSWORD,
          database: e.CLICKHOUSE_DATABASE,
          ...(e.CLICKHOUSE_CLUSTER ? { cluster: e.CLICKHOUSE_CLUSTER } : {}),
        }
      : { mode: 'embedded', path: path.join(dataDir, 'clickhouse'), database: e.CLICKHOUSE_DATABASE },
    logLevel: e.LOG_LEVEL,
    queuePrefix: e.QUEUE_PREFIX,
    flush: { maxRows: e.FLUSH_MAX_ROWS, maxAgeMs: e.FLUSH_MAX_AGE_MS, lookbackMinutes: e.WRITER_LOOKBACK_MINUTES },
    worker: { concurrency: e.WORKER_CONCURRENCY, maxHeldEvents: e.WORKER_MAX_HELD_EVENTS, attempts: e.JOB_ATTEMPTS, backoffMs: e.JOB_BACKOFF_MS, lockMs: e.JOB_LOCK_MS },
    webhooks: { attempts: e.WEBHOOK_ATTEMPTS, backoffMs: e.WEBHOOK_BACKOFF_MS, allowedCidrs: e.WEBHOOK_ALLOWED_CIDRS },
    ingest: {
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      maxQueueBacklog: e.MAX_QUEUE_BACKLOG,
      maxLagMs: e.INGEST_MAX_LAG_MS,
      maxBusyPercent: e.INGEST_MAX_BUSY_PERCENT,
      idempotencyWindowMinutes: e.IDEMPOTENCY_WINDOW_MINUTES,
      apiKeyCacheMs: e.API_KEY_CACHE_MS,
      writerStallMs: e.WRITER_STALL_MS,
    },
    diskMinFreeBytes: e.DISK_MIN_FREE_BYTES,
    spool: { dir: path.join(dataDir, 'spool'), maxBytes: e.SPOOL_MAX_BYTES },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    metricsToken: e.METRICS_TOKEN,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM, dir: path.join(dataDir, 'mail') },
    settingsEncryptionKey: e.SETTINGS_ENCRYPTION_KEY,
    settingsCacheMs: e.SETTINGS_CACHE_MS,
    signingKeyFile: e.SIGNING_KEY_FILE ? path.resolve(e.SIGNING_KEY_FILE) : undefined,
    keysDir: e.KEYS_DIR ? path.resolve(e.KEYS_DIR) : path.join(dataDir, 'keys'),
    archiveDir: e.ARCHIVE_DIR ? path.resolve(e.ARCHIVE_DIR) : path.join(dataDir, 'archive'),
    analyst: {
      maxExecutionTimeSeconds: e.ANALYST_MAX_EXECUTION_TIME,
      maxResultRows: e.ANALYST_MAX_RESULT_ROWS,
      maxResultBytes: e.ANALYST_MAX_RESULT_BYTES,
      maxMemoryUsage: e.ANALYST_MAX_MEMORY_USAGE,
    },
    analystMaxConcurrentQueries: e.ANALYST_MAX_CONCURRENT_QUERIES,
    retentionMinDays: e.RETENTION_MIN_DAYS,
  };
}

/** Limits every query on /clickhouse runs under (ANALYST_* in the environment). */
export interface AnalystLimits {
  /** max_execution_time, in seconds. */
  maxExecutionTimeSeconds: number;
  /** max_result_rows; more rows is an error (result_overflow_mode 'throw'), never a silent truncation. */
  maxResultRows: number;
  /** max_result_bytes, uncompressed. */
  maxResultBytes: number;
  /** max_memory_usage, so one query cannot starve the writer that shares the process. */
  maxMemoryUsage: number;
}

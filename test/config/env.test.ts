import path from 'node:path';
import { loadConfig } from '../../src/config/env';
import { ConfigError } from '../../src/lib/errors/config-error';

describe('configuration', () => {
  it('has working defaults: every role, embedded ClickHouse under ./data', () => {
    const config = loadConfig({});
    expect(config.roles).toEqual(['api', 'worker', 'scheduler']);
    expect(config.port).toBe(3000);
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/auditflow');
    expect(config.clickhouse).toEqual({ mode: 'embedded', path: path.resolve('data', 'clickhouse'), database: 'auditflow' });
  });

  it('talks to a ClickHouse server when CLICKHOUSE_URL is set', () => {
    const config = loadConfig({ CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_USER: 'u', CLICKHOUSE_PASSWORD: 'p', CLICKHOUSE_DATABASE: 'logs' });
    expect(config.clickhouse).toEqual({ mode: 'server', url: 'http://ch:8123', user: 'u', password: 'p', database: 'logs' });
  });

  it('addresses a ClickHouse cluster only through a server', () => {
    expect(loadConfig({ CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_CLUSTER: 'prod' }).clickhouse).toMatchObject({ mode: 'server', cluster: 'prod' });
    expect(() => loadConfig({ CLICKHOUSE_CLUSTER: 'prod' })).toThrow(/CLICKHOUSE_CLUSTER: needs CLICKHOUSE_URL/);
    expect(() => loadConfig({ CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_CLUSTER: 'prod; DROP' })).toThrow(/CLICKHOUSE_CLUSTER: must be a plain identifier/);
  });

  it('keeps keys under DATA_DIR unless KEYS_DIR names a shared place', () => {
    expect(loadConfig({ DATA_DIR: '/var/af' }).keysDir).toBe(path.resolve('/var/af/keys'));
    expect(loadConfig({ DATA_DIR: '/var/af', KEYS_DIR: '/run/keys' }).keysDir).toBe(path.resolve('/run/keys'));
  });

  it('opens an ops port only when METRICS_PORT is set, and checks it is a port', () => {
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: '9464' }).metricsPort).toBe(9464);
    expect(() => loadConfig({ METRICS_PORT: '70000' })).toThrow(/METRICS_PORT: .*\(got "70000"\)/);
    expect(() => loadConfig({ METRICS_PORT: '3000' })).toThrow(/METRICS_PORT: must differ from PORT/);
    expect(loadConfig({ ROLE: 'worker', METRICS_PORT: '3000' }).metricsPort).toBe(3000);
  });

  it('reads ROLE as a list', () => {
    expect(loadConfig({ ROLE: 'api,worker' }).roles).toEqual(['api', 'worker']);
  });

  it('names every bad variable in one readable error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', REDIS_URL: 'localhost:6379', ROLE: 'web', CLICKHOUSE_DATABASE: 'a;b' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/PORT: .*\(got "eighty"\)/);
    expect(message).toMatch(/REDIS_URL: must be a URL starting with redis:\/\/ or rediss:\/\/ \(got "localhost:6379"\)/);
    expect(message).toMatch(/ROLE: .*\(got "web"\)/);
    expect(message).toMatch(/CLICKHOUSE_DATABASE: must be a plain identifier/);
  });

  it('keeps the spool under DATA_DIR, bounded by SPOOL_MAX_BYTES (256 MiB by default, at least 1 MiB)', () => {
    expect(loadConfig({ DATA_DIR: '/var/af' }).spool).toEqual({ dir: path.resolve('/var/af', 'spool'), maxBytes: 256 * 1024 * 1024 });
    expect(loadConfig({ SPOOL_MAX_BYTES: '2097152' }).spool.maxBytes).toBe(2 * 1024 * 1024);
    expect(() => loadConfig({ SPOOL_MAX_BYTES: '1000' })).toThrow(/SPOOL_MAX_BYTES: .*\(got "1000"\)/);
  });

  it('bounds what grows with history: a 10-minute idempotency window, a 30-minute writer lookback, 1 s of ingest lag, busy admission at 95 %', () => {
    const config = loadConfig({});
    expect(config.ingest).toMatchObject({ idempotencyWindowMinutes: 10, maxLagMs: 1000, maxBusyPercent: 95 });
    expect(config.flush.lookbackMinutes).toBe(30);
    expect(loadConfig({ IDEMPOTENCY_WINDOW_MINUTES: '2', WRITER_LOOKBACK_MINUTES: '90', INGEST_MAX_LAG_MS: '0' })).toMatchObject({
      ingest: { idempotencyWindowMinutes: 2, maxLagMs: 0 },
      flush: { lookbackMinutes: 90 },
    });
    expect(() => loadConfig({ IDEMPOTENCY_WINDOW_MINUTES: '0' })).toThrow(/IDEMPOTENCY_WINDOW_MINUTES/);
    // Replaced by IDEMPOTENCY_WINDOW_MINUTES: still accepted, no longer read.
    expect(loadConfig({ IDEMPOTENCY_TTL_SECONDS: '86400' }).ingest.idempotencyWindowMinutes).toBe(10);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '' }).port).toBe(3000);
  });

  it('refuses an INGEST_MAX_BUSY_PERCENT outside 0..100 or not a whole number, naming it', () => {
    for (const bad of ['101', '-1', '95.5', 'all']) expect(() => loadConfig({ INGEST_MAX_BUSY_PERCENT: bad })).toThrow(/INGEST_MAX_BUSY_PERCENT/);
    expect(loadConfig({ INGEST_MAX_BUSY_PERCENT: '0' }).ingest.maxBusyPercent).toBe(0);
  });

  it('reuses settings read from PostgreSQL for 2 s by default (SETTINGS_CACHE_MS), 0 to read them every time, and refuses a negative or hour-long cache, naming it', () => {
    expect(loadConfig({}).settingsCacheMs).toBe(2000);
    expect(loadConfig({ SETTINGS_CACHE_MS: '0' }).settingsCacheMs).toBe(0);
    for (const bad of ['-1', '60001', '1.5', 'soon']) expect(() => loadConfig({ SETTINGS_CACHE_MS: bad })).toThrow(/SETTINGS_CACHE_MS/);
  });

  it('bounds the events the worker holds (WORKER_MAX_HELD_EVENTS, 20,000) and refuses a budget that is none, naming it', () => {
    expect(loadConfig({}).worker.maxHeldEvents).toBe(20_000);
    expect(loadConfig({ WORKER_MAX_HELD_EVENTS: '2000' }).worker.maxHeldEvents).toBe(2000);
    for (const bad of ['0', '-5', '1.5', 'lots', '1e12']) expect(() => loadConfig({ WORKER_MAX_HELD_EVENTS: bad })).toThrow(/WORKER_MAX_HELD_EVENTS/);
  });

  it('holds 400 ingest jobs at once by default (WORKER_CONCURRENCY), and refuses a count that is none, naming it', () => {
    expect(loadConfig({}).worker.concurrency).toBe(400);
    // With them, a table flushes at 5,000 rows (FLUSH_MAX_ROWS), 100 jobs or 500 ms, whichever comes first.
    expect(loadConfig({}).flush).toMatchObject({ maxRows: 5000, maxAgeMs: 500 });
    expect(loadConfig({ WORKER_CONCURRENCY: '50' }).worker.concurrency).toBe(50);
    for (const bad of ['0', '-1', '2.5', 'many', '10001']) expect(() => loadConfig({ WORKER_CONCURRENCY: bad })).toThrow(/WORKER_CONCURRENCY/);
  });

  it('runs the worker process at nice 10 by default (WORKER_NICE), 0 to turn it off, and refuses what nice(1) would not give, naming it', () => {
    expect(loadConfig({}).workerNice).toBe(10);
    expect(loadConfig({ WORKER_NICE: '0' }).workerNice).toBe(0);
    expect(loadConfig({ WORKER_NICE: '19' }).workerNice).toBe(19);
    // Negative would raise it above the API (and needs privilege); 20 and up are not nice values.
    for (const bad of ['-1', '-20', '20', '1.5', 'low']) expect(() => loadConfig({ WORKER_NICE: bad })).toThrow(/WORKER_NICE/);
  });
});

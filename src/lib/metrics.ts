import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** Why the ingest API did not queue an event. `duplicate` is acknowledged (202) but not queued again. */
export type RejectReason = 'invalid' | 'conflict' | 'duplicate' | 'too_large' | 'rate_limited' | 'unavailable';

/** What the ingest API reports about the events it is sent. */
export interface IngestMetrics {
  /** One count per queued event, by kind. */
  accepted(kinds: string[]): void;
  rejected(reason: RejectReason, events: number): void;
}

/** What the event publisher reports about its spool (the API's own events while Redis is unreachable). */
export interface SpoolMetrics {
  /** Events appended and synced to disk, and how long the append (with its fdatasync) took. */
  spooled(events: number, seconds: number): void;
  /** Events of a segment replayed into Redis, and its records skipped as torn or damaged. */
  replayed(events: number, skippedRecords: number): void;
  /** Events neither Redis nor the spool took: their requests were answered 503. */
  spoolRefused(events: number): void;
  /** Events of failed (5xx) requests left out of a spool more than half full. */
  spoolDropped(events: number): void;
}

/** What /metrics reads from the spool on every scrape. */
export interface SpoolDepth {
  readonly events: number;
  readonly bytes: number;
}

/** What the ClickHouse writer reports after each flush (its `onFlush` stats). */
export interface FlushStats {
  table: string;
  rows: number;
  written: number;
  deadLettered: number;
  ms: number;
  /** received_at of the oldest row the flush made visible, in ms since the epoch. */
  oldestReceivedAt?: number;
}

/** What /metrics reads about the store on every scrape: DATA_DIR's free space, and the writer where this process runs it. */
export interface StoreHealth {
  freeBytes: () => Promise<number>;
  writer?: () => { lastSuccessAt: number | null; consecutiveFailures: number };
}

/** A queue whose job counts are read on every scrape (a BullMQ Queue). */
export interface CountedQueue {
  readonly name: string;
  getJobCounts(...states: string[]): Promise<Record<string, number>>;
}

export interface AppMetricsOptions {
  /** Queues whose depth `auditflow_queue_jobs` reports. Default none. */
  queues?: CountedQueue[];
  /** Dead letters stored in ClickHouse, read at each scrape for `auditflow_dead_letters_stored`. Default: not reported. */
  deadLetterCounts?: () => Promise<{ total: number; pending: number }>;
}

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'paused', 'failed'];

/**
 * The process's Prometheus metrics, in a registry of its own (not prom-client's
 * global one), so several stacks in one process each count their own.
 */
/** Metrics as prom-client gives them in JSON, from another process. */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];
export type MetricsSource = () => Promise<MetricsJson>;

export class AppMetrics implements IngestMetrics, SpoolMetrics {
  readonly registry = new Registry();

  private readonly eventsAccepted = new Counter({
    name: 'auditflow_events_accepted_total',
    help: 'Events the ingest API queued, by kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });

  private readonly eventsRejected = new Counter({
    name: 'auditflow_events_rejected_total',
    help: 'Events the ingest API did not queue, by reason (duplicate: already accepted, acknowledged without queuing again)',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  private readonly flushRows = new Histogram({
    name: 'auditflow_clickhouse_flush_rows',
    help: 'Rows per ClickHouse flush, by table',
    labelNames: ['table'],
    buckets: [1, 10, 100, 500, 1000, 5000, 10_000, 50_000],
    registers: [this.registry],
  });

  private readonly flushSeconds = new Histogram({
    name: 'auditflow_clickhouse_flush_duration_seconds',
    help: 'Time per ClickHouse flush (dedupe check, sealed insert, dead letters), by table',
    labelNames: ['table'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly lagSeconds = new Histogram({
    name: 'auditflow_ingest_lag_seconds',
    help: 'Time from receipt by the API to visibility in ClickHouse of the oldest row of each flush, by table',
    labelNames: ['table'],
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800],
    registers: [this.registry],
  });

  private readonly deadLetters = new Counter({
    name: 'auditflow_dead_letters_total',
    help: 'Events written to dead_letter_events, by reason (flush_rejected: conflicting content or refused by ClickHouse; attempts_exhausted: the ingest job ran out of retries)',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  private readonly riskDecisions = new Counter({
    name: 'auditflow_risk_decisions_total',
    help: 'Auth and failed_login events scored by the risk worker, by level and mode',
    labelNames: ['level', 'mode'],
    registers: [this.registry],
  });

  private readonly riskLatency = new Histogram({
    name: 'auditflow_risk_decision_seconds',
    help: 'Time from receipt by the API to the risk decision on an event',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 60],
    registers: [this.registry],
  });

  private readonly spoolAppended = new Counter({
    name: 'auditflow_spool_appended_events_total',
    help: "API events appended (and fdatasync'ed) to the spool because Redis was unreachable",
    registers: [this.registry],
  });

  private readonly spoolReplayed = new Counter({
    name: 'auditflow_spool_replayed_events_total',
    help: 'Spooled API events replayed into Redis',
    registers: [this.registry],
  });

  private readonly spoolSkipped = new Counter({
    name: 'auditflow_spool_skipped_records_total',
    help: 'Spool records skipped on replay because they were torn (a crash during an append) or damaged',
    registers: [this.registry],
  });

  private readonly spoolRefusedEvents = new Counter({
    name: 'auditflow_spool_refused_events_total',
    help: 'API events neither Redis nor the spool took (spool full or disk error); their requests were answered 503',
    registers: [this.registry],
  });

  private readonly spoolDroppedEvents = new Counter({
    name: 'auditflow_spool_dropped_events_total',
    help: 'Events of failed (5xx) requests, such as ingest posts refused while Redis is down, left out of a spool more than half full',
    registers: [this.registry],
  });

  private readonly spoolAppendSeconds = new Histogram({
    name: 'auditflow_spool_append_duration_seconds',
    help: 'Time per spool append, write and fdatasync',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  private spoolDepth?: SpoolDepth;
  private readonly sources: MetricsSource[] = [];
  private store?: StoreHealth;

  constructor(options: AppMetricsOptions = {}) {
    collectDefaultMetrics({ register: this.registry });
    const queues = options.queues ?? [];
    new Gauge({
      name: 'auditflow_queue_jobs',
      help: 'Jobs in each BullMQ queue, by state, read from Redis on every scrape',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      // Every process reads the same queues: merged, the figure is one process's, not their sum.
      aggregator: 'max',
      async collect() {
        // Stale depths would look healthy: while Redis does not answer, report none.
        this.reset();
        await Promise.all(
          queues.map(async (queue) => {
            try {
              const counts = await queue.getJobCounts(...QUEUE_STATES);
              for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
            } catch {
              /* no series for this queue */
            }
          }),
        );
      },
    });
    const deadLetterCounts = options.deadLetterCounts;
    if (deadLetterCounts) {
      new Gauge({
        name: 'auditflow_dead_letters_stored',
        help: 'Dead letters in ClickHouse, by state (total; pending: not replayed yet), read on every scrape',
        labelNames: ['state'],
        registers: [this.registry],
        async collect() {
          this.reset();
          try {
            const counts = await deadLetterCounts();
            this.set({ state: 'total' }, counts.total);
            this.set({ state: 'pending' }, counts.pending);
          } catch {
            /* ClickHouse does not answer: no series rather than a stale one */
          }
        },
      });
    }
    const store = () => this.store;
    new Gauge({
      name: 'auditflow_data_dir_free_bytes',
      help: 'Free bytes on the filesystem holding DATA_DIR (the embedded store, the spool, archives)',
      registers: [this.registry],
      aggregator: 'max',
      async collect() {
        const s = store();
        if (s) this.set(await s.freeBytes().catch(() => 0));
      },
    });
    new Gauge({
      name: 'auditflow_writer_consecutive_failures',
      help: 'ClickHouse flushes that failed in a row (0 once one succeeds); seal waits on PostgreSQL are not counted',
      registers: [this.registry],
      collect() {
        const writer = store()?.writer?.();
        if (writer) this.set(writer.consecutiveFailures);
      },
    });
    new Gauge({
      name: 'auditflow_writer_last_success_age_seconds',
      help: 'Seconds since the ClickHouse writer last flushed successfully (-1 before its first flush)',
      registers: [this.registry],
      collect() {
        const writer = store()?.writer?.();
        if (writer) this.set(writer.lastSuccessAt === null ? -1 : (Date.now() - writer.lastSuccessAt) / 1000);
      },
    });
    const depth = () => this.spoolDepth;
    new Gauge({
      name: 'auditflow_spool_events',
      help: 'API events waiting in the spool for Redis',
      registers: [this.registry],
      collect() {
        this.set(depth()?.events ?? 0);
      },
    });
    new Gauge({
      name: 'auditflow_spool_bytes',
      help: 'Bytes of the spool on disk (bounded by SPOOL_MAX_BYTES)',
      registers: [this.registry],
      collect() {
        this.set(depth()?.bytes ?? 0);
      },
    });
    // Every reason exists from the start, so a rate() over it has a zero to start from.
    for (const reason of ['invalid', 'conflict', 'duplicate', 'too_large', 'rate_limited', 'unavailable'] satisfies RejectReason[]) this.eventsRejected.inc({ reason }, 0);
    for (const reason of ['flush_rejected', 'attempts_exhausted']) this.deadLetters.inc({ reason }, 0);
  }

  /** Another process's metrics (the worker process of `npm start`), merged into what this one serves. */
  addSource(source: MetricsSource): void {
    this.sources.push(source);
  }

  /** This process's metrics in the Prometheus text format, with every source's merged in (counters summed). */
  async render(): Promise<string> {
    if (this.sources.length === 0) return this.registry.metrics();
    const own = await this.registry.getMetricsAsJSON();
    // A source that does not answer (a worker process restarting) is left out of this scrape, not an error.
    const others = await Promise.all(this.sources.map((source) => source().catch(() => [])));
    return AggregatorRegistry.aggregate([own, ...others]).metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  accepted(kinds: string[]): void {
    // One inc per run of equal kinds (a batch is mostly one kind): each labelled inc hashes its labels.
    let run = 0;
    for (let i = 0; i < kinds.length; i++) {
      run++;
      if (kinds[i + 1] !== kinds[i]) {
        this.eventsAccepted.inc({ kind: kinds[i]! }, run);
        run = 0;
      }
    }
  }

  rejected(reason: RejectReason, events: number): void {
    if (events > 0) this.eventsRejected.inc({ reason }, events);
  }

  /** Feeds the flush histograms and dead-letter count from the writer's `onFlush`. */
  flushed(stats: FlushStats): void {
    const labels = { table: stats.table };
    this.flushRows.observe(labels, stats.rows);
    this.flushSeconds.observe(labels, stats.ms / 1000);
    if (stats.written > 0 && stats.oldestReceivedAt !== undefined) this.lagSeconds.observe(labels, Math.max(0, Date.now() - stats.oldestReceivedAt) / 1000);
    this.deadLettered('flush_rejected', stats.deadLettered);
  }

  deadLettered(reason: 'flush_rejected' | 'attempts_exhausted', events: number): void {
    if (events > 0) this.deadLetters.inc({ reason }, events);
  }

  /** The store whose free space and writer `auditflow_data_dir_free_bytes` and `auditflow_writer_*` report. */
  watchStore(store: StoreHealth): void {
    this.store = store;
  }

  /** The spool `auditflow_spool_events` and `auditflow_spool_bytes` report, once the api role has opened it. */
  watchSpool(spool: SpoolDepth): void {
    this.spoolDepth = spool;
  }

  spooled(events: number, seconds: number): void {
    this.spoolAppended.inc(events);
    this.spoolAppendSeconds.observe(seconds);
  }

  replayed(events: number, skippedRecords: number): void {
    this.spoolReplayed.inc(events);
    if (skippedRecords > 0) this.spoolSkipped.inc(skippedRecords);
  }

  spoolRefused(events: number): void {
    this.spoolRefusedEvents.inc(events);
  }

  spoolDropped(events: number): void {
    this.spoolDroppedEvents.inc(events);
  }

  /** From the risk worker, per scored event. */
  riskDecided(decision: { assessment: { level: string }; mode: string; decidedAt: Date; observation: { receivedAt: number } }): void {
    this.riskDecisions.inc({ level: decision.assessment.level, mode: decision.mode });
    this.riskLatency.observe(Math.max(0, decision.decidedAt.getTime() - decision.observation.receivedAt) / 1000);
  }
}

import { percentile } from '../load';
import { ATTACKS, generateTraffic, type AttackName, type SimEvent, type TrafficOptions } from './traffic';

/**
 * Runs labelled traffic through a running auditflow, as an app would (one
 * event per POST /v1/events), then reads each event's decision back from
 * its row over /clickhouse and scores the run: detection per attack,
 * false positives on normal logins, and the time from event to decision.
 *
 * Event → decision is measured from the moment the simulator sends the
 * event (its first try, when the API asked it to wait) to the row's
 * risk_decided_at, when the risk worker scored it. Both clocks are this
 * machine's: the target is on loopback. Receipt (received_at) → decision is
 * reported too, to show how much of it is HTTP and how much queue and worker.
 */
export interface SimulationTarget {
  /** Base URL of the API, e.g. http://127.0.0.1:3000. */
  url: string;
  /** An API key with the ingest and query scopes. */
  key: string;
}

export interface SimulationOptions extends TrafficOptions {
  /** Requests in flight at once. */
  concurrency: number;
  /**
   * Events sent per second at most (0: as fast as the API accepts them). A
   * closed loop at full speed measures a saturated pipeline, whose backlog
   * grows with the run; a set rate measures decisions at a stated load.
   */
  rate: number;
  /** The whole run (sending, then waiting for the decisions) gives up after this long... */
  timeoutMs: number;
  /**
   * ...unless it is still making progress: each accepted event, and each
   * new decided row, moves the deadline to at least this far ahead. For the
   * test suite, on a machine whose speed it does not choose; the deadline
   * then catches a pipeline that stopped, not one that is slow. Default 0.
   */
  stallMs?: number;
  log?: (line: string) => void;
}

/** A decision counts as a detection at or above this level, or when it blocks (a lock or an IP block). */
export const TARGETS = { detection: 0.99, falsePositives: 0.01, decisionP99Ms: 2000, withinAttempts: 10 };

export interface AttackResult {
  instances: number;
  detected: number;
  rate: number;
  /** Median attempt (1-based) at which detected instances were first high or blocked. */
  medianAttempt: number;
  /** The signal with most points in each first detecting decision, counted. */
  caughtBy: Record<string, number>;
}

export interface SimulationResult {
  attacks: Record<AttackName, AttackResult>;
  normal: {
    logins: number;
    high: number;
    blocked: number;
    stepUp: number;
    falsePositiveRate: number;
    /** The signal with most points in each high or blocked normal login, counted. */
    highOrBlockedBy: Record<string, number>;
    /** The factors of the first few normal logins scored high, to see why. */
    highExamples: Record<string, number>[];
  };
  latency: { decisions: number; p50Ms: number; p99Ms: number; maxMs: number; receiptToDecisionP50Ms: number; receiptToDecisionP99Ms: number };
  events: { sent: number; retried: number; refused: number; withoutDecision: number };
  elapsedMs: { history: number; live: number; decisions: number };
  pass: { detection: boolean; falsePositives: boolean; latency: boolean };
}

interface Sent {
  event: SimEvent;
  sentAt: number;
}

interface DecisionRow {
  id: string;
  risk_level: string | null;
  risk_action: string | null;
  risk_factors: Record<string, number>;
  decided: string | number | null;
  received: string | number;
}

class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Spaces calls `1000 / rate` ms apart (in order of asking). */
class Pacer {
  private next = 0;
  constructor(private readonly rate: number) {}
  async take(): Promise<void> {
    if (this.rate <= 0) return;
    const now = performance.now();
    const at = Math.max(now, this.next);
    this.next = at + 1000 / this.rate;
    if (at > now) await sleep(at - now);
  }
}

/** A run's deadline: fixed, or pushed on by progress (SimulationOptions.stallMs). */
class Deadline {
  private at: number;

  constructor(
    timeoutMs: number,
    private readonly stallMs: number,
  ) {
    this.at = Date.now() + timeoutMs;
  }

  progressed(): void {
    this.at = Math.max(this.at, Date.now() + this.stallMs);
  }

  passed(): boolean {
    return Date.now() > this.at;
  }
}

export async function runSimulation(target: SimulationTarget, options: SimulationOptions): Promise<SimulationResult> {
  const log = options.log ?? (() => undefined);
  const deadline = new Deadline(options.timeoutMs, options.stallMs ?? 0);
  const traffic = generateTraffic(options);
  const slots = new Semaphore(options.concurrency);
  const sent: Sent[] = [];
  const counts = { retried: 0, refused: 0 };
  const pacer = new Pacer(options.rate);

  /** Posts one event; waits and retries while the API sheds load (429/503), as a client should. */
  const post = async (event: SimEvent): Promise<void> => {
    await pacer.take();
    const sentAt = Date.now();
    const body = JSON.stringify(event.offsetMs > 0 ? { ...event.body, occurred_at: new Date(sentAt - event.offsetMs).toISOString() } : event.body);
    for (;;) {
      if (deadline.passed()) throw new Error('the simulation ran out of time while sending');
      const response = await fetch(`${target.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${target.key}`, 'content-type': 'application/json' }, body });
      await response.arrayBuffer();
      if (response.status === 202) {
        deadline.progressed();
        sent.push({ event, sentAt });
        return;
      }
      if (response.status !== 429 && response.status !== 503) {
        counts.refused++;
        throw new Error(`POST /v1/events answered ${response.status} for ${event.scenario} event ${event.body.event_id}`);
      }
      counts.retried++;
      await sleep(Math.min(2000, Number(response.headers.get('retry-after') ?? 0) * 1000 || 100));
    }
  };

  /** Sends a time-ordered list: in order, several at once, but each stream's next event only after its previous one was accepted. */
  const sendOrdered = async (events: SimEvent[]): Promise<void> => {
    const last = new Map<string, Promise<void>>();
    const all: Promise<void>[] = [];
    for (const event of events) {
      await slots.acquire();
      const previous = last.get(event.stream) ?? Promise.resolve();
      const p = previous.then(() => post(event)).finally(() => slots.release());
      last.set(event.stream, p);
      all.push(p);
    }
    await Promise.all(all);
  };

  const sendStream = async (events: SimEvent[]): Promise<void> => {
    for (const event of events) {
      await slots.acquire();
      try {
        await post(event);
      } finally {
        slots.release();
      }
    }
  };

  const t0 = Date.now();
  log(`history: ${traffic.history.length} events (normal users' past week, victims' earlier logins)`);
  await sendOrdered(traffic.history);
  const t1 = Date.now();
  log(`live: ${traffic.today.length} normal logins and ${traffic.attacks.length} attack instances (${traffic.attacks.reduce((n, a) => n + a.length, 0)} attempts) together`);
  await Promise.all([sendOrdered(traffic.today), ...traffic.attacks.map(sendStream)]);
  const t2 = Date.now();

  log(`waiting for the decisions of ${sent.length} events`);
  const rows = await readDecisions(target, options.runTag, sent.length, deadline);
  const t3 = Date.now();

  const result = score(sent, rows);
  return {
    ...result,
    events: { sent: sent.length, retried: counts.retried, refused: counts.refused, withoutDecision: result.withoutDecision },
    elapsedMs: { history: t1 - t0, live: t2 - t1, decisions: t3 - t2 },
  };
}

/** Queries the read-only /clickhouse interface (the key needs the query scope). */
async function query<T>(target: SimulationTarget, sql: string, params: Record<string, string>): Promise<T[]> {
  const url = new URL(`${target.url}/clickhouse`);
  url.searchParams.set('default_format', 'JSONEachRow');
  for (const [name, value] of Object.entries(params)) url.searchParams.set(`param_${name}`, value);
  const response = await fetch(url, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`simulator:${target.key}`).toString('base64')}` }, body: sql });
  const text = await response.text();
  if (!response.ok) throw new Error(`/clickhouse answered ${response.status}: ${text.slice(0, 500)}`);
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as T);
}

const DECISIONS_SQL = (columns: string) => `
SELECT ${columns} FROM auth_audit_log WHERE startsWith(user_id, {tag:String})
UNION ALL
SELECT ${columns} FROM failed_login_attempts WHERE startsWith(user_id, {tag:String})`;

/** Waits until every accepted event of the run has its row, then reads each one's decision. */
async function readDecisions(target: SimulationTarget, runTag: string, expected: number, deadline: Deadline): Promise<DecisionRow[]> {
  const params = { tag: `${runTag}-` };
  let seen = 0;
  for (;;) {
    const counted = await query<{ n: string | number }>(target, `SELECT count() AS n FROM (${DECISIONS_SQL('event_id')})`, params);
    const n = counted.reduce((sum, r) => sum + Number(r.n), 0);
    if (n >= expected) break;
    if (n > seen) deadline.progressed();
    seen = n;
    if (deadline.passed()) break; // scored with what arrived; the rest count as undecided
    await sleep(250);
  }
  return query<DecisionRow>(
    target,
    DECISIONS_SQL('toString(event_id) AS id, risk_level, risk_action, risk_factors, toUnixTimestamp64Milli(risk_decided_at) AS decided, toUnixTimestamp64Milli(received_at) AS received'),
    params,
  );
}

const topSignal = (row: DecisionRow) => Object.entries(row.risk_factors ?? {}).sort((x, y) => y[1] - x[1])[0]?.[0] ?? 'none';
const isDetection = (row: DecisionRow | undefined) => row !== undefined && (row.risk_level === 'high' || row.risk_action === 'block');

function score(sent: Sent[], rows: DecisionRow[]): Omit<SimulationResult, 'events' | 'elapsedMs'> & { withoutDecision: number } {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const latencies: number[] = [];
  const receiptLatencies: number[] = [];
  let withoutDecision = 0;
  const normal = { logins: 0, high: 0, blocked: 0, stepUp: 0, falsePositiveRate: 0, highOrBlockedBy: {} as Record<string, number>, highExamples: [] as Record<string, number>[] };
  const instances = new Map<string, { scenario: AttackName; attempts: { attempt: number; row: DecisionRow | undefined }[] }>();

  for (const { event, sentAt } of sent) {
    const row = byId.get(event.body.event_id);
    if (row?.decided == null) withoutDecision++;
    else {
      latencies.push(Number(row.decided) - sentAt);
      receiptLatencies.push(Number(row.decided) - Number(row.received));
    }
    if (event.role === 'normal') {
      normal.logins++;
      if (row?.risk_level === 'high' && normal.high++ < 5) normal.highExamples.push(row.risk_factors);
      if (row?.risk_action === 'block') normal.blocked++;
      if (row?.risk_action === 'step_up') normal.stepUp++;
      if (row && isDetection(row)) {
        const top = topSignal(row);
        normal.highOrBlockedBy[top] = (normal.highOrBlockedBy[top] ?? 0) + 1;
      }
    } else if (event.role === 'attack') {
      const scenario = event.scenario as AttackName;
      let instance = instances.get(event.stream);
      if (!instance) {
        instance = { scenario, attempts: [] };
        instances.set(event.stream, instance);
      }
      instance.attempts.push({ attempt: event.attempt, row });
    }
  }
  normal.falsePositiveRate = normal.logins ? normal.high / normal.logins : 0;

  const attacks = Object.fromEntries(ATTACKS.map((a) => [a, { instances: 0, detected: 0, rate: 0, medianAttempt: NaN, caughtBy: {} as Record<string, number> }])) as Record<AttackName, AttackResult>;
  const detectedAt: Record<string, number[]> = {};
  for (const { scenario, attempts } of instances.values()) {
    const result = attacks[scenario];
    result.instances++;
    const first = attempts.filter((a) => a.attempt <= TARGETS.withinAttempts && isDetection(a.row)).sort((x, y) => x.attempt - y.attempt)[0];
    if (!first) continue;
    result.detected++;
    detectedAt[scenario] ??= [];
    detectedAt[scenario].push(first.attempt);
    const top = topSignal(first.row!);
    result.caughtBy[top] = (result.caughtBy[top] ?? 0) + 1;
  }
  for (const a of ATTACKS) {
    attacks[a].rate = attacks[a].instances ? attacks[a].detected / attacks[a].instances : 0;
    attacks[a].medianAttempt = percentile(detectedAt[a] ?? [], 50);
  }
  const p99 = percentile(latencies, 99);
  return {
    attacks,
    normal,
    latency: {
      decisions: latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: p99,
      maxMs: latencies.length ? Math.max(...latencies) : NaN,
      receiptToDecisionP50Ms: percentile(receiptLatencies, 50),
      receiptToDecisionP99Ms: percentile(receiptLatencies, 99),
    },
    withoutDecision,
    pass: {
      detection: ATTACKS.every((a) => attacks[a].instances > 0 && attacks[a].rate >= TARGETS.detection),
      falsePositives: normal.falsePositiveRate <= TARGETS.falsePositives,
      latency: withoutDecision === 0 && p99 <= TARGETS.decisionP99Ms,
    },
  };
}

/** The result as the table `npm run simulate` prints. */
export function formatResult(r: SimulationResult): string {
  const pct = (x: number) => `${(x * 100).toFixed(x > 0 && x < 0.01 ? 2 : 1)}%`;
  const tally = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort((x, y) => y[1] - x[1])
      .map(([s, n]) => `${s} ${n}`)
      .join(', ') || 'none';
  const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)} ms` : 'n/a');
  const lines = [['scenario', 'result', 'target', '']];
  const ok = (p: boolean) => (p ? 'PASS' : 'FAIL');
  for (const a of ATTACKS) {
    const r2 = r.attacks[a];
    lines.push([
      a,
      `${r2.detected}/${r2.instances} detected (${pct(r2.rate)}), median at attempt ${r2.medianAttempt}; top signal: ${tally(r2.caughtBy)}`,
      `≥ ${pct(TARGETS.detection)} within ${TARGETS.withinAttempts}`,
      ok(r2.rate >= TARGETS.detection),
    ]);
  }
  lines.push([
    'normal logins',
    `${r.normal.high}/${r.normal.logins} scored high (${pct(r.normal.falsePositiveRate)}); ${r.normal.blocked} blocked, ${r.normal.stepUp} step-up (${pct(r.normal.stepUp / Math.max(1, r.normal.logins))}); high or blocked by: ${tally(r.normal.highOrBlockedBy)}`,
    `≤ ${pct(TARGETS.falsePositives)} high`,
    ok(r.pass.falsePositives),
  ]);
  lines.push([
    'event → decision',
    `p50 ${ms(r.latency.p50Ms)}, p99 ${ms(r.latency.p99Ms)}, max ${ms(r.latency.maxMs)} over ${r.latency.decisions} events (receipt → decision p50 ${ms(r.latency.receiptToDecisionP50Ms)}, p99 ${ms(r.latency.receiptToDecisionP99Ms)}); ${r.events.withoutDecision} without a decision`,
    `p99 ≤ ${TARGETS.decisionP99Ms} ms`,
    ok(r.pass.latency),
  ]);
  const examples = r.normal.highExamples.map(
    (f) =>
      `  ${Object.entries(f)
        .map(([s, n]) => `${s} ${n}`)
        .join(' + ')}`,
  );
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  const line = (l: string[]) => `| ${l.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(lines[0]!),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...lines.slice(1).map(line),
    ...(examples.length ? ['', 'normal logins scored high (first 5), their factors:', ...examples] : []),
  ].join('\n');
}

import cron from 'node-cron';
import type { Queue } from 'bullmq';
import { periodEndingAt, type ReportType } from '../domain/report';
import type { Logger } from '../lib/logger';
import type { ControlJob } from '../queues/queue-names';

/** A scheduled task: on each tick, one control job for the period that just ended. */
export interface ScheduledTask {
  name: string;
  /** node-cron expression, evaluated in UTC. */
  cron: string;
  /** The period that ends at this tick. */
  period: (tick: Date) => { start: Date; end: Date };
  job: (period: { start: Date; end: Date }) => ControlJob;
}

/** Start of the tick's day, week (Monday) or month, UTC: scheduled periods end on these boundaries. */
function boundary(type: ReportType, tick: Date): Date {
  const d = new Date(Date.UTC(tick.getUTCFullYear(), tick.getUTCMonth(), tick.getUTCDate()));
  if (type === 'weekly_access_review') d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  if (type === 'monthly_compliance') d.setUTCDate(1);
  return d;
}

const reportTask = (type: ReportType, expression: string): ScheduledTask => ({
  name: `report-${type}`,
  cron: expression,
  period: (tick) => periodEndingAt(type, boundary(type, tick)),
  job: ({ start, end }) => ({ type: 'report', reportType: type, start: start.toISOString(), end: end.toISOString(), generatedBy: 'scheduler' }),
});

export const SCHEDULED_TASKS: ScheduledTask[] = [
  {
    name: 'dead-letter-digest',
    cron: '0 * * * *',
    period: (tick) => {
      const end = new Date(Math.floor(tick.getTime() / 3600_000) * 3600_000);
      return { start: new Date(end.getTime() - 3600_000), end };
    },
    job: ({ start, end }) => ({ type: 'dead-letter-digest', periodStart: start.toISOString(), periodEnd: end.toISOString() }),
  },
  {
    name: 'retention',
    cron: '0 3 * * *',
    period: (tick) => {
      const day = new Date(Date.UTC(tick.getUTCFullYear(), tick.getUTCMonth(), tick.getUTCDate()));
      return { start: new Date(day.getTime() - 86_400_000), end: day };
    },
    job: () => ({ type: 'retention', now: null }),
  },
  {
    // Every chain, every night: the dashboard and the reports cite the latest run, and a break raises the alarm.
    name: 'integrity-verify',
    cron: '30 2 * * *',
    period: (tick) => {
      const day = new Date(Date.UTC(tick.getUTCFullYear(), tick.getUTCMonth(), tick.getUTCDate()));
      return { start: new Date(day.getTime() - 86_400_000), end: day };
    },
    job: () => ({ type: 'verify', from: null, to: null, trigger: 'scheduled' }),
  },
  reportTask('daily_security_summary', '5 0 * * *'),
  reportTask('weekly_access_review', '10 0 * * 1'),
  reportTask('monthly_compliance', '15 0 1 * *'),
];

/**
 * Enqueues one task's job for the period ending at `tick`. The job id names
 * the task and its period (BullMQ ids may not contain ':'), so when several
 * schedulers fire, BullMQ keeps one job; the report table's unique period
 * keeps one report even if a job is re-added after the first finished.
 */
export async function enqueueScheduled(controlQueue: Queue<ControlJob>, task: ScheduledTask, tick: Date): Promise<void> {
  const period = task.period(tick);
  await controlQueue.add(task.name, task.job(period), { jobId: `${task.name}@${period.end.getTime()}` });
}

/** How often the scheduler reads the wall clock for due slots. */
const SWEEP_MS = 5000;
/** The longest step forward whose slots are caught up: a day, so one stepped-over report or nightly run is never lost, but a machine suspended for weeks does not replay every hour. */
const CATCH_UP_MS = 24 * 3600_000;
const MINUTE_MS = 60_000;

/** A task with its cron expression's matcher (UTC, per minute). */
export interface CronSlotTask {
  task: ScheduledTask;
  matches: (minute: Date) => boolean;
}

export function withCronMatcher(task: ScheduledTask): CronSlotTask & { destroy: () => void } {
  const cronTask = cron.createTask(task.cron, () => undefined, { timezone: 'UTC' });
  return { task, matches: (minute) => cronTask.match(minute), destroy: () => void cronTask.destroy() };
}

/**
 * The slots a sweep at `now` enqueues: each task's cron minutes after
 * `swept` (the last minute already swept, ms) up to `now`'s minute, and the
 * new `swept`. A wall clock stepped forward yields each slot it jumped over,
 * once; a clock stepped back yields nothing until it passes `swept` again,
 * so no slot runs twice. (node-cron's own timers missed both: a timer that
 * fired while the clock was behind re-armed for an hour, and a slot found
 * more than a second late was dropped as "missed".)
 */
export function dueSlots(tasks: readonly CronSlotTask[], swept: number, now: Date): { due: { task: ScheduledTask; tick: Date }[]; swept: number } {
  const last = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS;
  const due: { task: ScheduledTask; tick: Date }[] = [];
  for (let minute = Math.max(swept + MINUTE_MS, last - CATCH_UP_MS); minute <= last; minute += MINUTE_MS) {
    for (const t of tasks) if (t.matches(new Date(minute))) due.push({ task: t.task, tick: new Date(minute) });
  }
  return { due, swept: Math.max(swept, last) };
}

/** Runs the scheduled tasks in the scheduler role: every few seconds (a monotonic timer), enqueues the slots the wall clock has passed. */
export function startScheduler(controlQueue: Queue<ControlJob>, logger: Logger, tasks = SCHEDULED_TASKS, sweepMs = SWEEP_MS): { stop: () => Promise<void> } {
  const matchers = tasks.map(withCronMatcher);
  // Slots from the next minute on, as node-cron did: a start does not replay the current minute's.
  let swept = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  let running: Promise<void> | undefined;
  const sweep = async (): Promise<void> => {
    const now = new Date();
    const next = dueSlots(matchers, swept, now);
    swept = next.swept;
    for (const { task, tick } of next.due) {
      const lateMs = now.getTime() - tick.getTime();
      if (lateMs > 2 * MINUTE_MS) logger.warn({ task: task.name, slot: tick.toISOString(), lateMs }, 'enqueuing a slot the wall clock stepped over');
      try {
        await enqueueScheduled(controlQueue, task, tick);
      } catch (error) {
        logger.error({ err: error, task: task.name }, 'could not enqueue scheduled task');
      }
    }
  };
  const timer = setInterval(() => {
    running ??= sweep()
      .catch((error) => logger.error({ err: error }, 'scheduler sweep failed; retrying at the next one'))
      .finally(() => (running = undefined));
  }, sweepMs);
  logger.info({ tasks: tasks.map((t) => `${t.name} (${t.cron})`) }, 'scheduler started');
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
      for (const m of matchers) m.destroy();
    },
  };
}

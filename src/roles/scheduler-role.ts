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

/** Runs node-cron in the scheduler role. */
export function startScheduler(controlQueue: Queue<ControlJob>, logger: Logger, tasks = SCHEDULED_TASKS): { stop: () => void } {
  const scheduled = tasks.map((task) =>
    cron.schedule(
      task.cron,
      async () => {
        try {
          await enqueueScheduled(controlQueue, task, new Date());
        } catch (error) {
          logger.error({ err: error, task: task.name }, 'could not enqueue scheduled task');
        }
      },
      { timezone: 'UTC' },
    ),
  );
  logger.info({ tasks: tasks.map((t) => `${t.name} (${t.cron})`) }, 'scheduler started');
  return {
    stop: () => {
      for (const s of scheduled) s.stop();
    },
  };
}

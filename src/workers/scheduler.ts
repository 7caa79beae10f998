import cron from 'node-cron';
import type { Queue } from 'bullmq';
import type { Logger } from '../lib/logger';
import type { ControlJob } from '../queues/queue-names';

/** A scheduled task: on each tick, one control job for the period that just ended. */
export interface ScheduledTask {
  name: string;
  /** node-cron expression, evaluated in UTC. */
  cron: string;
  /** Length of the period the job covers, ending at the tick. */
  periodMs: number;
  job: (periodStart: Date, periodEnd: Date) => ControlJob;
}

export const SCHEDULED_TASKS: ScheduledTask[] = [
  {
    name: 'dead-letter-digest',
    cron: '0 * * * *',
    periodMs: 3600_000,
    job: (from, to) => ({ type: 'dead-letter-digest', periodStart: from.toISOString(), periodEnd: to.toISOString() }),
  },
];

/**
 * Runs node-cron in the scheduler role. Each tick enqueues a control job
 * whose id names the task and its period (BullMQ ids may not contain ':'), so when several schedulers run,
 * BullMQ keeps exactly one job per period.
 */
export function startScheduler(controlQueue: Queue<ControlJob>, logger: Logger, tasks = SCHEDULED_TASKS): { stop: () => void } {
  const scheduled = tasks.map((task) =>
    cron.schedule(
      task.cron,
      async () => {
        const end = new Date(Math.floor(Date.now() / 60_000) * 60_000);
        const startAt = new Date(end.getTime() - task.periodMs);
        try {
          await controlQueue.add(task.name, task.job(startAt, end), { jobId: `${task.name}@${end.getTime()}` });
        } catch (error) {
          logger.error({ err: error, task: task.name }, 'could not enqueue scheduled task');
        }
      },
      { timezone: 'UTC' },
    ),
  );
  logger.info({ tasks: tasks.map((t) => `${t.name} (${t.cron})`) }, 'scheduler started');
  return { stop: () => scheduled.forEach((s) => s.stop()) };
}

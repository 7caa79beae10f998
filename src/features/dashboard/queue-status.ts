import type { Queue } from 'bullmq';

/** A queue's backlog as the dashboard shows it. */
export interface QueueStatus {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  prioritized: number;
  /** Jobs out of attempts: their events are in the dead letters. */
  failed: number;
  /** Age of the oldest job still waiting, in seconds; null when none waits. */
  lag_seconds: number | null;
}

/** Counts and lag of each queue, read from Redis (a few commands per queue). */
export async function queueStatus(queues: Queue[], now = Date.now()): Promise<QueueStatus[]> {
  return Promise.all(
    queues.map(async (queue) => {
      const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'failed');
      // Oldest first: the job that has waited longest.
      const [oldest] = await queue.getJobs(['wait'], 0, 0, true);
      return {
        name: queue.name,
        waiting: counts.wait ?? 0,
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        prioritized: counts.prioritized ?? 0,
        failed: counts.failed ?? 0,
        lag_seconds: oldest ? Math.max(0, Math.round((now - oldest.timestamp) / 100) / 10) : null,
      };
    }),
  );
}

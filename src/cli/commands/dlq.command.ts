import type { Command } from 'commander';
import { clickHouseCluster, embeddedStoreOwner, openClickHouse } from '../../lib/clickhouse';
import { migrateClickHouse } from '../../lib/clickhouse-migrations';
import { createWorkerRedis } from '../../lib/redis';
import { runControlJob } from '../../queues/control-client';
import type { ControlResult } from '../../queues/queue-names';
import { createControlQueue, createIngestQueue } from '../../queues/queues';
import { DeadLetterRepository } from '../../features/ingest/dead-letters/dead-letter.repository';
import { replayDeadLetters } from '../../features/ingest/dead-letters/dead-letter-replay';
import { deadLettersReplayed, deadLettersRequested, requestUnconfirmed } from '../../features/audit/privileged-actions';
import { cliContext, withAudit } from '../context';

export function registerDlqCommands(program: Command): void {
  const dlq = program.command('dlq').description('dead-letter events');
  dlq
    .command('replay')
    .description('re-queue dead-lettered events and retry failed ingest jobs (safe to repeat: nothing is written twice)')
    .option('--limit <n>', 'at most this many dead letters', '100000')
    .option('--timeout <seconds>', 'how long to wait for a running worker to do it', '120')
    .action(async (opts: { limit: string; timeout: string }) => {
      const { config } = cliContext();
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new Error('--limit must be a positive integer');
      await withAudit(
        config,
        'dlq replay',
        async (audit) => {
          const started = performance.now();
          const redis = createWorkerRedis(config.redisUrl);
          await redis.connect();
          const ingestQueue = createIngestQueue(redis, config);
          const controlQueue = createControlQueue(redis, config);
          try {
            let result: ControlResult;
            const owner = config.clickhouse.mode === 'embedded' ? embeddedStoreOwner(config.clickhouse.path) : null;
            if (owner) {
              // A running auditflow owns the embedded store: ask its worker to do it.
              result = await runControlJob(controlQueue, redis, { type: 'dlq-replay', limit }, Number(opts.timeout) * 1000);
            } else {
              const clickhouse = await openClickHouse(config.clickhouse);
              try {
                await migrateClickHouse(clickhouse, { cluster: clickHouseCluster(config.clickhouse) });
                result = { type: 'dlq-replay', ...(await replayDeadLetters(new DeadLetterRepository(clickhouse), ingestQueue, limit)) };
              } finally {
                await clickhouse.close();
              }
            }
            if (result.type === 'dlq-replay') {
              audit.record(deadLettersReplayed(limit, result, started));
              process.stdout.write(`Re-queued ${result.requeued} dead-lettered event(s); retried ${result.retriedJobs} failed ingest job(s).\n`);
            }
          } finally {
            await Promise.all([ingestQueue.close(), controlQueue.close()]);
            await redis.quit();
          }
        },
        (error) => requestUnconfirmed(deadLettersRequested(limit), error),
      );
    });
}

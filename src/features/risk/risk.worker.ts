import { OutboundAddressPolicy } from '../../lib/outbound-address';
import { Worker, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { SettingsRepository } from '../settings/settings.repository';
import { SettingsService } from '../settings/settings.service';
import type { Config } from '../../config/env';
import type { Logger } from '../../lib/logger';
import { SecretBox } from '../../lib/secret-box';
import { QUEUE_NAMES, type WebhookJob } from '../../queues/queue-names';
import type { EventSink } from './risk-action-emitter';
import { RiskActionEmitter } from './risk-action-emitter';
import type { RiskDecision } from './domain/risk-decision';
import { RiskEngine } from './risk-engine';
import { riskPolicyFrom } from './domain/risk-policy';
import { ApiKeyRepository } from '../api-keys/api-key.repository';
import { IpBlocks } from './state/ip-blocks';
import { IpReputation } from './state/ip-reputation';
import { LockExpirySweeper } from './lock-expiry-sweeper';
import { RecentDecisions } from './state/recent-decisions';
import { RiskState } from './state/risk-state';
import { RiskSubjectRepository } from './risk-subject.repository';
import { SessionRepository } from '../auth/session.repository';
import { UserRepository } from '../auth/user.repository';
import { createWebhookProcessor } from '../webhooks/webhook.processor';
import { WebhookNotifier } from '../webhooks/webhook-notifier';
import { WebhookRepository } from '../webhooks/webhook.repository';

/** Devices, networks and last locations are forgotten after this long without a login. */
const HISTORY_TTL_SECONDS = 90 * 24 * 3600;

export interface RiskWorkerDeps {
  config: Config;
  pg: Pool;
  /** For scoring and blocks (fail-fast commands). */
  redis: Redis;
  /** For the webhook BullMQ worker (blocking commands). */
  workerRedis: Redis;
  webhookQueue: Queue<WebhookJob>;
  sink: EventSink;
  logger: Logger;
  onDecision?: (decision: RiskDecision) => void;
}

export interface RiskWorker {
  engine: RiskEngine;
  sweeper: LockExpirySweeper;
  stop(): Promise<void>;
}

/** The risk worker of a worker process: the engine the ingest worker calls, the lock sweeper, webhook delivery. */
export function startRiskWorker(d: RiskWorkerDeps): RiskWorker {
  const box = SecretBox.fromConfig(d.config.settingsEncryptionKey, d.config.keysDir);
  const settings = new SettingsService(new SettingsRepository(d.pg), box, undefined, d.config.settingsCacheMs);
  const subjects = new RiskSubjectRepository(d.pg);
  const state = new RiskState(d.redis, { prefix: d.config.queuePrefix, historyTtlSeconds: HISTORY_TTL_SECONDS });
  const webhookRepository = new WebhookRepository(d.pg);
  const webhooks = new WebhookNotifier(d.webhookQueue, webhookRepository, d.config.webhooks);
  const emitter = new RiskActionEmitter({ sink: d.sink, webhooks, subjects, sessions: new SessionRepository(d.pg) });
  const engine = new RiskEngine({
    state,
    policy: () => riskPolicyFrom(settings),
    subjects,
    users: new UserRepository(d.pg),
    recent: new RecentDecisions(d.redis, state),
    ipBlocks: new IpBlocks(d.redis, d.config.queuePrefix),
    ipReputation: new IpReputation(new ApiKeyRepository(d.pg)),
    emitter,
    webhooks,
    onDecision: d.onDecision,
  });
  const sweeper = new LockExpirySweeper(subjects, emitter, d.logger);
  sweeper.start();
  const delivery = new Worker<WebhookJob>(QUEUE_NAMES.webhooks, createWebhookProcessor(webhookRepository, box, d.logger, new OutboundAddressPolicy(d.config.webhooks.allowedCidrs)), {
    connection: d.workerRedis,
    prefix: d.config.queuePrefix,
    concurrency: 16,
  });
  delivery.on('error', (error) => d.logger.error({ err: error }, 'webhook worker error'));
  delivery.on('failed', (job, error) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) d.logger.error({ deliveryId: job.data.deliveryId, err: error }, 'webhook call given up after its last attempt');
  });
  return {
    engine,
    sweeper,
    stop: async () => {
      await Promise.all([sweeper.stop(), delivery.close()]);
    },
  };
}

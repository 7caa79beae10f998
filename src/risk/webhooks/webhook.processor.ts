import type { Job } from 'bullmq';
import type { Logger } from '../../lib/logger';
import type { SecretBox } from '../../lib/secret-box';
import type { WebhookJob } from '../../queues/queue-names';
import type { WebhookRepository } from './webhook.repository';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature';

/**
 * Delivers one webhook call: the app's current URL and secret, a fresh
 * signature per attempt, a 2xx within the timeout or the job fails and
 * BullMQ retries it with backoff.
 */
export function createWebhookProcessor(webhooks: WebhookRepository, box: SecretBox, logger: Logger, timeoutMs = 5000) {
  return async (job: Job<WebhookJob>): Promise<{ status: number } | { skipped: string }> => {
    const { sourceApp, type, deliveryId, body } = job.data;
    const hook = await webhooks.get(sourceApp);
    if (!hook?.is_active || !hook.events.includes(type)) return { skipped: 'the app has no active webhook for this event' };
    const text = JSON.stringify(body);
    const response = await fetch(hook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'auditflow-webhooks/1',
        'x-auditflow-event': type,
        'x-auditflow-delivery': deliveryId,
        'x-auditflow-attempt': String(job.attemptsMade + 1),
        [SIGNATURE_HEADER]: signWebhook(box.open(hook.secret_sealed), text, Math.floor(Date.now() / 1000)),
      },
      body: text,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel().catch(() => undefined);
    if (response.status < 200 || response.status >= 300) {
      logger.warn({ sourceApp, type, deliveryId, status: response.status, attempt: job.attemptsMade + 1 }, 'webhook call refused; it will be retried');
      throw new Error(`webhook answered ${response.status}`);
    }
    return { status: response.status };
  };
}

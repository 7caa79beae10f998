import type { Job } from 'bullmq';
import type { Logger } from '../../lib/logger';
import type { SecretBox } from '../../lib/secret-box';
import type { WebhookJob } from '../../queues/queue-names';
import type { WebhookRepository } from './webhook.repository';
import type { OutboundAddressPolicy } from '../../lib/outbound-address';
import { pinnedPost } from './pinned-post';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature';

/**
 * Delivers one webhook call: the app's current URL and secret, a fresh
 * signature per attempt, a 2xx within the timeout or the job fails and
 * BullMQ retries it with backoff.
 */
export function createWebhookProcessor(webhooks: WebhookRepository, box: SecretBox, logger: Logger, outbound: OutboundAddressPolicy, timeoutMs = 5000) {
  return async (job: Job<WebhookJob>): Promise<{ status: number } | { skipped: string }> => {
    const { sourceApp, type, deliveryId, body } = job.data;
    const hook = await webhooks.get(sourceApp);
    if (!hook?.is_active || !hook.events.includes(type)) return { skipped: 'the app has no active webhook for this event' };
    const text = JSON.stringify(body);
    // Checked again at each delivery (the name may resolve elsewhere since registration), then pinned to the checked address.
    const status = await pinnedPost(
      new URL(hook.url),
      {
        'content-type': 'application/json',
        'user-agent': 'auditflow-webhooks/1',
        'x-auditflow-event': type,
        'x-auditflow-delivery': deliveryId,
        'x-auditflow-attempt': String(job.attemptsMade + 1),
        [SIGNATURE_HEADER]: signWebhook(box.open(hook.secret_sealed), text, Math.floor(Date.now() / 1000)),
      },
      text,
      outbound,
      timeoutMs,
    ).catch((error: unknown) => {
      logger.warn({ sourceApp, type, deliveryId, err: error, attempt: job.attemptsMade + 1 }, 'webhook not delivered; it will be retried');
      throw error;
    });
    // A redirect is not followed (it could lead anywhere): like any other non-2xx, the call failed.
    if (status < 200 || status >= 300) {
      logger.warn({ sourceApp, type, deliveryId, status, attempt: job.attemptsMade + 1 }, 'webhook call refused; it will be retried');
      throw new Error(`webhook answered ${status}`);
    }
    return { status };
  };
}

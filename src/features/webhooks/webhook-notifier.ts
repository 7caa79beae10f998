import type { Queue } from 'bullmq';
import type { WebhookJob } from '../../queues/queue-names';
import type { WebhookEventType } from '../../domain/webhook-events';
import type { WebhookRepository } from './webhook.repository';

/**
 * Queues webhook calls. One job per call, with a job id derived from the
 * action, so an action emitted twice is delivered once; retries with
 * exponential backoff are BullMQ's.
 */
export class WebhookNotifier {
  private readonly cache = new Map<string, { at: number; events: Set<string> | null }>();

  constructor(
    private readonly queue: Queue<WebhookJob>,
    private readonly webhooks: WebhookRepository,
    private readonly options: { attempts: number; backoffMs: number; cacheMs?: number },
  ) {}

  /** Whether the app has an active webhook for this event type (cached for a few seconds). */
  async wants(sourceApp: string, type: WebhookEventType): Promise<boolean> {
    const cached = this.cache.get(sourceApp);
    // Monotonic, so a wall clock stepped back does not stretch the cache.
    if (cached && performance.now() - cached.at < (this.options.cacheMs ?? 5000)) return cached.events?.has(type) ?? false;
    const row = await this.webhooks.get(sourceApp);
    const events = row?.is_active ? new Set<string>(row.events) : null;
    this.cache.set(sourceApp, { at: performance.now(), events });
    return events?.has(type) ?? false;
  }

  /** One call to every app subscribed to `type`, for a notice about the whole store (a broken chain). */
  async broadcast(type: WebhookEventType, deliveryId: string, body: Record<string, unknown>): Promise<void> {
    for (const sourceApp of await this.webhooks.subscribers(type)) await this.notify(sourceApp, type, `${deliveryId}-${sourceApp}`, body);
  }

  async notify(sourceApp: string, type: WebhookEventType, deliveryId: string, body: Record<string, unknown>): Promise<void> {
    if (!(await this.wants(sourceApp, type))) return;
    await this.queue.add(
      type,
      { sourceApp, type, deliveryId, body: { id: deliveryId, type, source_app: sourceApp, ...body } },
      {
        jobId: `wh-${deliveryId}`,
        attempts: this.options.attempts,
        backoff: { type: 'exponential', delay: this.options.backoffMs },
        // Kept a day after success so a re-emitted action finds its job and is not delivered twice.
        removeOnComplete: { age: 86_400 },
        removeOnFail: { age: 7 * 86_400 },
      },
    );
  }
}

import { randomBytes } from 'node:crypto';
import type { SecretBox } from '../../lib/secret-box';
import { AppError } from '../../lib/errors/app-error';
import type { OutboundAddressPolicy } from '../../lib/outbound-address';
import type { EventPublisher } from '../../queues/event-publisher';
import type { WebhookEventType } from '../../domain/webhook-events';
import type { WebhookRepository, WebhookRow } from './webhook.repository';
import { actorFields } from '../audit/actor-fields';
import type { RequestContext } from '../../http/request-context';

function view(row: WebhookRow) {
  return { url: row.url, events: row.events, is_active: row.is_active, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
}

/** An app's webhook: configured by the app itself with a risk-scoped key; every change audited. */
export class WebhookService {
  constructor(
    private readonly webhooks: WebhookRepository,
    private readonly box: SecretBox,
    private readonly events: EventPublisher | undefined,
    private readonly outbound: OutboundAddressPolicy,
  ) {}

  async get(sourceApp: string) {
    const row = await this.webhooks.get(sourceApp);
    if (!row) throw new AppError('NOT_FOUND', `app ${sourceApp} has no webhook`);
    return view(row);
  }

  /**
   * Sets the webhook. The signing secret is generated here, shown once (on
   * creation or when `rotate_secret` is true) and stored encrypted.
   */
  async put(sourceApp: string, input: { url: string; events: WebhookEventType[]; is_active: boolean; rotate_secret: boolean }, ctx: RequestContext) {
    // Refused here with the reason, and checked again at each delivery: the name may point elsewhere later.
    await this.outbound.check(new URL(input.url));
    const before = await this.webhooks.get(sourceApp);
    const secret = !before || input.rotate_secret ? `whsec_${randomBytes(32).toString('base64url')}` : null;
    const { row, created } = await this.webhooks.upsert(sourceApp, input.url, input.events, input.is_active, secret ? this.box.seal(secret) : null);
    this.events?.publish({
      kind: 'audit',
      event_type: created ? 'webhook_created' : 'webhook_updated',
      action_type: created ? 'CREATE' : 'UPDATE',
      entity_type: 'APP_WEBHOOK',
      entity_id: sourceApp,
      previous_value: before ? { url: before.url, events: before.events, is_active: before.is_active } : null,
      new_value: { url: row.url, events: row.events, is_active: row.is_active, secret_rotated: secret !== null },
      ...actorFields(ctx),
    });
    return { created, webhook: { ...view(row), ...(secret ? { secret } : {}) } };
  }

  async delete(sourceApp: string, ctx: RequestContext): Promise<void> {
    const before = await this.webhooks.get(sourceApp);
    if (!before || !(await this.webhooks.delete(sourceApp))) throw new AppError('NOT_FOUND', `app ${sourceApp} has no webhook`);
    this.events?.publish({
      kind: 'audit',
      event_type: 'webhook_deleted',
      action_type: 'DELETE',
      entity_type: 'APP_WEBHOOK',
      entity_id: sourceApp,
      previous_value: { url: before.url, events: before.events, is_active: before.is_active },
      new_value: null,
      ...actorFields(ctx),
    });
  }
}

import { Router } from 'express';
import { z } from 'zod';
import { WEBHOOK_EVENTS } from '../../domain/webhook-events';
import type { ApiKeyService } from '../api-keys/api-key.service';
import { requireScope } from '../api-keys/require-scope';
import { validate } from '../../http/validate';
import type { WebhookService } from './webhook.service';

export const webhookBody = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048),
  events: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1)
    .default([...WEBHOOK_EVENTS])
    .transform((e) => [...new Set(e)]),
  is_active: z.boolean().default(true),
  /** Generate a new signing secret (the old one stops working at once). */
  rotate_secret: z.boolean().default(false),
});

/** /v1/webhook: the calling app's webhook for lock, unlock and high-risk notices. */
export function webhooksRoutes(webhooks: WebhookService, keys: ApiKeyService): Router {
  const router = Router();
  const auth = requireScope(keys, 'risk');

  router.get('/v1/webhook', auth, async (_req, res) => {
    res.json(await webhooks.get(res.locals.apiKey!.app));
  });

  router.put('/v1/webhook', auth, async (req, res) => {
    const result = await webhooks.put(res.locals.apiKey!.app, validate(webhookBody, req.body), res.locals.ctx);
    res.status(result.created ? 201 : 200).json(result.webhook);
  });

  router.delete('/v1/webhook', auth, async (_req, res) => {
    await webhooks.delete(res.locals.apiKey!.app, res.locals.ctx);
    res.status(204).end();
  });
  return router;
}

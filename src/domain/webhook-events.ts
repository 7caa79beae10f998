/** The events an app's webhook can subscribe to. */
export const WEBHOOK_EVENTS = ['subject.locked', 'subject.unlocked', 'subject.high_risk', 'integrity.failed', 'protection.weakened'] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

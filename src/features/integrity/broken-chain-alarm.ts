import { derivedUuid } from '../../domain/derived-id';
import { OWN_SOURCE_APP } from '../../domain/own-source-app';
import type { EventSink } from '../risk/risk-action-emitter';
import type { WebhookNotifier } from '../webhooks/webhook-notifier';
import type { BrokenChainAlarm } from './recorded-verification';
import type { VerificationRun } from './verification-run.repository';

/** What broke, in one line per table: the same words the CLI prints. */
export function describeBreaks(run: VerificationRun): string {
  return run.tables
    .filter((t) => !t.ok && t.first_break)
    .map((t) => `${t.table}: ${t.first_break!.kind} at seal ${t.first_break!.seal_seq ?? '-'}${t.first_break!.event_id ? `, event_id ${t.first_break!.event_id}` : ''}: ${t.first_break!.detail}`)
    .join('; ');
}

/**
 * A failed verification is a HIGH security event of auditflow's own, and a
 * webhook call to every app subscribed to `integrity.failed` saying which
 * tables broke and how, nothing of any app's rows. Both are
 * derived from the run's id, so a retried job raises them once.
 */
export function brokenChainAlarm(sink: EventSink, webhooks: WebhookNotifier): BrokenChainAlarm {
  return async (run) => {
    const broken = describeBreaks(run);
    await sink.write(OWN_SOURCE_APP, run.finished_at, [
      {
        kind: 'security',
        event_id: derivedUuid(`integrity-failed:${run.id}`),
        event_type: 'INTEGRITY_VERIFICATION_FAILED',
        occurred_at: run.finished_at,
        severity_level: 'HIGH',
        event_source: 'INTEGRITY_VERIFIER',
        event_description: `integrity verification run ${run.id} (${run.trigger}) found a broken chain: ${broken}`.slice(0, 4000),
        resource_involved: run.tables
          .filter((t) => !t.ok)
          .map((t) => t.table)
          .join(','),
        action_taken: 'LOGGED_ONLY',
        event_category: 'DATA_INTEGRITY',
        threat_type: 'tampering',
        detection_method: 'hash_chain_verification',
        metadata: { run_id: run.id, trigger: run.trigger, rows_verified: run.rows_verified, broken: run.tables.filter((t) => !t.ok).map((t) => ({ table: t.table, ...t.first_break })) },
      },
    ]);
    // Every subscribed app gets this: which table broke and how, as a scoped report says it; the event that
    // broke it (another app's, maybe) and every app's row count stay in the security event above.
    await webhooks.broadcast('integrity.failed', `integrity-${run.id}`, {
      run_id: run.id,
      trigger: run.trigger,
      finished_at: run.finished_at,
      broken: run.tables.filter((t) => !t.ok).map((t) => ({ table: t.table, ...(t.first_break ? { kind: t.first_break.kind } : {}) })),
    });
  };
}

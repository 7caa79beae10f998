import type { VerificationResult, VerificationTrigger } from '../../domain/verification';
import type { IntegrityVerifier, VerifyRange } from './integrity-verifier';
import type { VerificationRun, VerificationRunRepository } from './verification-run.repository';

/** Told of a verification that found a broken chain, seal or gap. */
export type BrokenChainAlarm = (run: VerificationRun) => Promise<void>;

/**
 * Integrity verification that leaves a record: every run is stored, and a
 * failed one raises the alarm (a HIGH security event and the webhooks), so a
 * broken chain found by the nightly run is seen even if nobody reads the log.
 */
export class RecordedVerification {
  constructor(
    private readonly verifier: IntegrityVerifier,
    private readonly runs: VerificationRunRepository,
    private readonly alarm?: BrokenChainAlarm,
  ) {}

  async verify(range: VerifyRange, trigger: VerificationTrigger): Promise<{ result: VerificationResult; run: VerificationRun }> {
    const startedAt = new Date();
    const result = await this.verifier.verify(range);
    const run = await this.runs.record(trigger, range, startedAt, result);
    if (!result.ok) await this.alarm?.(run);
    return { result, run };
  }
}

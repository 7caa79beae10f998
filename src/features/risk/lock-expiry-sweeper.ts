import type { Logger } from '../../lib/logger';
import type { RiskActionEmitter } from './risk-action-emitter';
import type { RiskSubjectRepository } from './risk-subject.repository';

/**
 * The risk worker's clock: every few seconds it lifts locks whose time has
 * passed (each unlock audited and sent to the app's webhook), re-emits any
 * action a crash left half-emitted, and once an hour forgets old emitted
 * actions. Several workers may run it: rows are claimed with SKIP LOCKED and
 * emission is idempotent.
 */
export class LockExpirySweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private lastCleanup = -Infinity;

  constructor(
    private readonly subjects: RiskSubjectRepository,
    private readonly emitter: RiskActionEmitter,
    private readonly logger: Logger,
    private readonly intervalMs = 2000,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.tick()
        .then(() => undefined)
        .catch((error) => this.logger.error({ err: error }, 'risk lock sweep failed; retrying at the next tick'))
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One sweep; returns how many actions it emitted. */
  async tick(): Promise<number> {
    const unlocked = await this.subjects.unlockExpired();
    await this.emitter.emit(unlocked);
    // Older than a few seconds: in-flight emissions finish first; the API's own unlocks are relayed from here.
    const stale = await this.subjects.pending(5);
    await this.emitter.emit(stale);
    // Monotonic: once an hour whatever the wall clock does.
    if (performance.now() - this.lastCleanup > 3_600_000) {
      this.lastCleanup = performance.now();
      await this.subjects.forgetEmitted(30);
    }
    if (unlocked.length) this.logger.info({ unlocked: unlocked.length }, 'expired locks lifted');
    return unlocked.length + stale.length;
  }
}

import { isPermanentLock } from '../../domain/lockout-policy';
import { AppError } from '../../lib/errors/app-error';
import type { RecentDecisions } from './state/recent-decisions';
import type { RiskSubjectRepository } from './risk-subject.repository';

/**
 * An app's view of one of its users, as the risk worker sees them: the
 * latest risk, the lock, and the last decisions. Scoped to the calling
 * key's app: the same user id under another app is another subject.
 */
export class SubjectService {
  constructor(
    private readonly subjects: RiskSubjectRepository,
    private readonly recent: RecentDecisions,
  ) {}

  async get(sourceApp: string, userId: string) {
    const [state, decisions] = await Promise.all([this.subjects.state(sourceApp, userId), this.recent.list(sourceApp, userId)]);
    if (!state && decisions.length === 0) throw new AppError('NOT_FOUND', `no auth events seen for user ${JSON.stringify(userId)} of app ${sourceApp}`);
    const lockedUntil = state?.locked_until && state.locked_until.getTime() > Date.now() ? state.locked_until : null;
    return {
      user_id: userId,
      source_app: sourceApp,
      risk: state?.decided_at
        ? {
            score: state.risk_score,
            level: state.risk_level,
            action: state.risk_action,
            factors: state.risk_factors,
            event_id: state.last_event_id,
            occurred_at: state.last_event_at?.toISOString() ?? null,
            decided_at: state.decided_at.toISOString(),
          }
        : null,
      lock: {
        locked: lockedUntil !== null,
        locked_until: lockedUntil && !isPermanentLock(lockedUntil) ? lockedUntil.toISOString() : null,
        permanent: isPermanentLock(lockedUntil),
        reason: lockedUntil ? (state?.lock_reason ?? null) : null,
        lock_count: state?.lock_count ?? 0,
      },
      recent_decisions: decisions,
    };
  }

  /** The app lifts a lock (its own support desk verified the user). The unlock is audited and sent to its webhook. */
  async unlock(sourceApp: string, userId: string, by: string): Promise<{ unlocked: boolean }> {
    return { unlocked: (await this.subjects.unlockSubject(sourceApp, userId, by)) !== null };
  }
}

import type { Pool, PoolClient } from 'pg';
import { OWN_SOURCE_APP } from '../../domain/own-source-app';
import { isPermanentLock, nextLock, type LockoutPolicy } from '../../domain/lockout-policy';
import { withTransaction } from '../../lib/pg';
import { UUID_PATTERN } from '../../schemas/fields';
import { AccountLockRepository } from '../auth/account-lock.repository';
import type { RiskAction, RiskActionKind, RiskActionPayload } from './domain/risk-action';
import type { RiskDecision } from './domain/risk-decision';

export interface SubjectState {
  source_app: string;
  subject_id: string;
  risk_score: number;
  risk_level: string;
  risk_action: string;
  risk_factors: unknown;
  last_event_id: string | null;
  last_event_at: Date | null;
  decided_at: Date | null;
  locked_until: Date | null;
  lock_reason: string | null;
  lock_count: number;
}

export interface LockRequest {
  sourceApp: string;
  subject: string;
  /** Locks of our own users go to the users table; every other app's to risk_subjects. */
  builtIn: boolean;
  actionKey: string;
  /** When the triggering event happened: one from before the last unlock does not lock again. */
  eventAt: Date;
  /** The triggering event's IP: stored in the outbox row, so a re-emitted lock has the same events as the first. */
  ip: string | null;
  policy: LockoutPolicy;
  payload: Omit<RiskActionPayload, 'at' | 'locked_until' | 'permanent' | 'lock_count' | 'lock_minutes'>;
}

interface LockRow {
  status: string | null;
  email: string | null;
  locked_until: Date | null;
  lock_count: number;
  lock_cleared_at: Date | null;
  /** Built-in users: who set the current lock; null once it was lifted and announced. */
  lock_source: string | null;
}

/** Thrown inside a transaction to undo it without failing (see inTransaction). */
class RolledBack extends Error {}

/**
 * PostgreSQL side of the risk worker: risk_subjects (the latest decision per
 * app subject and its lock, escalating per the lockout policy) and the
 * risk_actions outbox. Built-in users are locked through auth's
 * AccountLockRepository, in the same transaction. A lock and its outbox row
 * commit together; a retried job finds its action key taken and does
 * nothing twice.
 */
export class RiskSubjectRepository {
  constructor(
    private readonly pg: Pool,
    private readonly accountLocks = new AccountLockRepository(pg),
  ) {}

  /** Records each subject's latest decision (one statement per batch). */
  async recordDecisions(decisions: RiskDecision[]): Promise<void> {
    const latest = new Map<string, RiskDecision>();
    for (const d of decisions) {
      if (!d.observation.subject) continue;
      const key = `${d.observation.sourceApp}\n${d.observation.subject}`;
      const seen = latest.get(key);
      if (!seen || seen.observation.at <= d.observation.at) latest.set(key, d);
    }
    if (latest.size === 0) return;
    const rows = [...latest.values()].map((d) => ({
      source_app: d.observation.sourceApp,
      subject_id: d.observation.subject,
      risk_score: d.assessment.score,
      risk_level: d.assessment.level,
      risk_action: d.assessment.action,
      risk_factors: d.assessment.factors.map(({ signal, points, reason }) => ({ signal, points, reason })),
      last_event_id: d.observation.eventId,
      last_event_at: new Date(d.observation.at).toISOString(),
      decided_at: d.decidedAt.toISOString(),
    }));
    await this.pg.query(
      `INSERT INTO risk_subjects (source_app, subject_id, risk_score, risk_level, risk_action, risk_factors, last_event_id, last_event_at, decided_at, updated_at)
       SELECT r.source_app, r.subject_id, r.risk_score, r.risk_level, r.risk_action, r.risk_factors, r.last_event_id, r.last_event_at, r.decided_at, now()
       FROM jsonb_to_recordset($1::jsonb) AS r(source_app text, subject_id text, risk_score smallint, risk_level text, risk_action text,
            risk_factors jsonb, last_event_id uuid, last_event_at timestamptz, decided_at timestamptz)
       ON CONFLICT (source_app, subject_id) DO UPDATE SET
         risk_score = EXCLUDED.risk_score, risk_level = EXCLUDED.risk_level, risk_action = EXCLUDED.risk_action,
         risk_factors = EXCLUDED.risk_factors, last_event_id = EXCLUDED.last_event_id, last_event_at = EXCLUDED.last_event_at,
         decided_at = EXCLUDED.decided_at, updated_at = now()
       WHERE risk_subjects.last_event_at IS NULL OR risk_subjects.last_event_at <= EXCLUDED.last_event_at`,
      [JSON.stringify(rows)],
    );
  }

  /**
   * Locks a subject unless it is locked already; the lock's length follows
   * its earlier locks. Returns the outbox row, or null when nothing changed
   * (already locked, unknown user, or this action already taken). A lock
   * that expired but whose unlock the sweeper has not announced yet is
   * announced first, so every lock has its unlock event.
   */
  async lock(request: LockRequest): Promise<RiskAction[] | null> {
    if (request.builtIn && !UUID_PATTERN.test(request.subject)) return null;
    return this.inTransaction(async (client) => {
      if (!(await this.claim(client, request.actionKey, 'account_locked', request.sourceApp, request.subject, request.ip))) return null;
      const now = (await client.query<{ now: Date }>('SELECT now() AS now')).rows[0]!.now;
      const row = await this.lockRowForUpdate(client, request);
      if (!row || (row.locked_until && row.locked_until > now)) return 'rollback';
      if (row.lock_cleared_at && row.lock_cleared_at >= request.eventAt) return 'rollback';
      const actions: RiskAction[] = [];
      const expired = row.locked_until && (!request.builtIn || row.lock_source !== null) ? row.locked_until : null;
      if (expired) {
        const key = `unlock|${request.builtIn ? OWN_SOURCE_APP : request.sourceApp}|${request.subject}|${expired.toISOString()}`;
        if (await this.claim(client, key, 'account_unlocked', request.builtIn ? OWN_SOURCE_APP : request.sourceApp, request.subject, null)) {
          actions.push(
            await this.setPayload(client, key, {
              built_in: request.builtIn,
              email: row.email,
              previous_status: request.builtIn ? row.status : 'locked',
              status: request.builtIn ? (row.status === 'locked' ? 'active' : row.status) : 'active',
              previous_locked_until: expired.toISOString(),
              locked_until: null,
              reason: 'the lock expired',
              unlocked_by: 'expiry',
              at: expired.toISOString(),
            }),
          );
        }
      }
      const term = nextLock(request.policy, row.lock_count, now);
      if (request.builtIn) {
        await this.accountLocks.lockUserForRisk(request.subject, term.until, client);
      } else {
        await client.query(
          `UPDATE risk_subjects SET locked_until = $3, lock_reason = $4, lock_count = lock_count + 1, updated_at = now()
           WHERE source_app = $1 AND subject_id = $2`,
          [request.sourceApp, request.subject, term.until, request.payload.reason ?? null],
        );
      }
      const payload: RiskActionPayload = {
        ...request.payload,
        built_in: request.builtIn,
        email: row.email,
        previous_status: row.status,
        status: request.builtIn ? (row.status === 'active' ? 'locked' : row.status) : 'locked',
        previous_locked_until: row.locked_until?.toISOString() ?? null,
        locked_until: term.until.toISOString(),
        permanent: term.permanent,
        lock_count: row.lock_count + 1,
        lock_minutes: term.minutes,
        at: now.toISOString(),
      };
      actions.push(await this.setPayload(client, request.actionKey, payload));
      return actions;
    });
  }

  /** Lifts every lock whose time has passed (built-in users and app subjects); one outbox row each. */
  async unlockExpired(limit = 200): Promise<RiskAction[]> {
    return (
      (await this.inTransaction(async (client) => {
        const users = await this.accountLocks.expiredUserLocks(limit, client);
        const subjects = await client.query<{ source_app: string; subject_id: string; locked_until: Date; now: Date }>(
          `SELECT source_app, subject_id, locked_until, now() AS now FROM risk_subjects
           WHERE locked_until <= now() ORDER BY locked_until LIMIT $1 FOR UPDATE SKIP LOCKED`,
          [limit],
        );
        const actions: RiskAction[] = [];
        for (const u of users) {
          const status = u.status === 'locked' ? 'active' : u.status;
          await this.accountLocks.liftExpiredUserLock(u.id, status, client);
          const key = `unlock|${OWN_SOURCE_APP}|${u.id}|${u.locked_until.toISOString()}`;
          if (!(await this.claim(client, key, 'account_unlocked', OWN_SOURCE_APP, u.id, null))) continue;
          actions.push(
            await this.setPayload(client, key, {
              built_in: true,
              email: u.email,
              previous_status: u.status,
              status,
              previous_locked_until: u.locked_until.toISOString(),
              locked_until: null,
              reason: `the ${u.lock_source === 'risk' ? 'risk' : 'failed-login'} lock expired`,
              unlocked_by: 'expiry',
              at: u.now.toISOString(),
            }),
          );
        }
        for (const s of subjects.rows) {
          await client.query(
            `UPDATE risk_subjects SET locked_until = NULL, lock_reason = NULL, lock_cleared_at = GREATEST(lock_cleared_at, locked_until), updated_at = now() WHERE source_app = $1 AND subject_id = $2`,
            [s.source_app, s.subject_id],
          );
          const key = `unlock|${s.source_app}|${s.subject_id}|${s.locked_until.toISOString()}`;
          if (!(await this.claim(client, key, 'account_unlocked', s.source_app, s.subject_id, null))) continue;
          actions.push(
            await this.setPayload(client, key, {
              built_in: false,
              previous_locked_until: s.locked_until.toISOString(),
              locked_until: null,
              status: 'active',
              previous_status: 'locked',
              reason: 'the lock expired',
              unlocked_by: 'expiry',
              at: s.now.toISOString(),
            }),
          );
        }
        return actions;
      })) ?? []
    );
  }

  /** Lifts an app subject's lock at the app's request. Null when it was not locked. */
  async unlockSubject(sourceApp: string, subject: string, by: string): Promise<RiskAction | null> {
    return this.inTransaction(async (client) => {
      const { rows } = await client.query<{ locked_until: Date | null; now: Date }>(`SELECT locked_until, now() AS now FROM risk_subjects WHERE source_app = $1 AND subject_id = $2 FOR UPDATE`, [
        sourceApp,
        subject,
      ]);
      const row = rows[0];
      if (!row?.locked_until || row.locked_until <= row.now) return 'rollback';
      await client.query(`UPDATE risk_subjects SET locked_until = NULL, lock_reason = NULL, lock_count = 0, lock_cleared_at = now(), updated_at = now() WHERE source_app = $1 AND subject_id = $2`, [
        sourceApp,
        subject,
      ]);
      const key = `unlock|${sourceApp}|${subject}|${row.locked_until.toISOString()}|${by}`;
      await this.claim(client, key, 'account_unlocked', sourceApp, subject, null);
      return this.setPayload(client, key, {
        built_in: false,
        previous_locked_until: row.locked_until.toISOString(),
        locked_until: null,
        previous_status: 'locked',
        status: 'active',
        reason: `unlocked by ${by}`,
        unlocked_by: by,
        permanent: isPermanentLock(row.locked_until),
        at: row.now.toISOString(),
      });
    });
  }

  /** Records an action that changes nothing in PostgreSQL (an IP block, a high-risk notice). Null if already recorded. */
  async recordAction(key: string, action: RiskActionKind, sourceApp: string, subject: string | null, ip: string | null, payload: RiskActionPayload): Promise<RiskAction | null> {
    const { rows } = await this.pg.query<RiskAction>(
      `INSERT INTO risk_actions (action_key, action, source_app, subject_id, ip_address, payload) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (action_key) DO NOTHING RETURNING *`,
      [key, action, sourceApp, subject, ip, JSON.stringify(payload)],
    );
    return rows[0] ?? null;
  }

  async state(sourceApp: string, subject: string): Promise<SubjectState | null> {
    const { rows } = await this.pg.query<SubjectState>(`SELECT * FROM risk_subjects WHERE source_app = $1 AND subject_id = $2`, [sourceApp, subject]);
    return rows[0] ?? null;
  }

  /** Actions whose emission did not finish (a crash between commit and emit). */
  async pending(olderThanSeconds: number, limit = 100): Promise<RiskAction[]> {
    const { rows } = await this.pg.query<RiskAction>(`SELECT * FROM risk_actions WHERE emitted_at IS NULL AND created_at < now() - make_interval(secs => $1) ORDER BY created_at LIMIT $2`, [
      olderThanSeconds,
      limit,
    ]);
    return rows;
  }

  async markEmitted(keys: string[]): Promise<void> {
    if (keys.length) await this.pg.query(`UPDATE risk_actions SET emitted_at = now() WHERE action_key = ANY($1)`, [keys]);
  }

  /** Emitted actions older than the retention, so the outbox stays small. */
  async forgetEmitted(days: number): Promise<number> {
    const { rowCount } = await this.pg.query(`DELETE FROM risk_actions WHERE emitted_at IS NOT NULL AND created_at < now() - make_interval(days => $1)`, [days]);
    return rowCount ?? 0;
  }

  private async lockRowForUpdate(client: PoolClient, request: LockRequest): Promise<LockRow | null> {
    if (request.builtIn) return this.accountLocks.userLockForUpdate(request.subject, client);
    await client.query(`INSERT INTO risk_subjects (source_app, subject_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [request.sourceApp, request.subject]);
    const { rows } = await client.query<LockRow>(
      `SELECT NULL AS status, NULL AS email, locked_until, lock_count, lock_cleared_at, NULL AS lock_source FROM risk_subjects WHERE source_app = $1 AND subject_id = $2 FOR UPDATE`,
      [request.sourceApp, request.subject],
    );
    return rows[0] ?? null;
  }

  private async claim(client: PoolClient, key: string, action: RiskActionKind, sourceApp: string, subject: string | null, ip: string | null): Promise<boolean> {
    const { rowCount } = await client.query(`INSERT INTO risk_actions (action_key, action, source_app, subject_id, ip_address) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (action_key) DO NOTHING`, [
      key,
      action,
      sourceApp,
      subject,
      ip,
    ]);
    return rowCount === 1;
  }

  private async setPayload(client: PoolClient, key: string, payload: RiskActionPayload): Promise<RiskAction> {
    const { rows } = await client.query<RiskAction>(`UPDATE risk_actions SET payload = $2 WHERE action_key = $1 RETURNING *`, [key, JSON.stringify(payload)]);
    return rows[0]!;
  }

  /** Runs `work` in a transaction; it returns 'rollback' (or null) to undo, e.g. an outbox row it claimed. */
  private async inTransaction<T>(work: (client: PoolClient) => Promise<T | 'rollback' | null>): Promise<T | null> {
    try {
      return await withTransaction(this.pg, async (client) => {
        const result = await work(client);
        if (result === 'rollback' || result === null) throw new RolledBack();
        return result;
      });
    } catch (error) {
      if (error instanceof RolledBack) return null;
      throw error;
    }
  }
}

import type { QueuedEvent } from '../../domain/event-row';
import { OWN_SOURCE_APP } from '../../domain/own-source-app';
import { blockedRange, type BlockRange, type IpBlocks } from './state/ip-blocks';
import type { IpReputation } from './state/ip-reputation';
import type { RecentDecisions } from './state/recent-decisions';
import type { RiskAction, RiskActionPayload } from './domain/risk-action';
import type { RiskActionEmitter } from './risk-action-emitter';
import type { RiskDecision } from './domain/risk-decision';
import { toObservation, type RiskObservation } from './domain/risk-observation';
import type { RiskPolicy } from './domain/risk-policy';
import type { RiskAssessment, RiskFactor } from './domain/risk-score';
import { ACCOUNT_LOCK_POINTS, MEDIUM_AT, scoreEvent } from './domain/risk-score';
import type { RiskState } from './state/risk-state';
import type { RiskSubjectRepository } from './risk-subject.repository';
import type { UserRepository } from '../auth/user.repository';
import type { WebhookNotifier } from '../webhooks/webhook-notifier';

export interface ScoredEventInput {
  event: QueuedEvent;
  sourceApp: string;
  receivedAt: string;
}

export interface RiskEngineDeps {
  state: RiskState;
  policy: () => Promise<RiskPolicy>;
  subjects: RiskSubjectRepository;
  /** Built-in users: where a step-up is asked for. */
  users: UserRepository;
  recent: RecentDecisions;
  ipBlocks: IpBlocks;
  ipReputation: IpReputation;
  emitter: RiskActionEmitter;
  webhooks: WebhookNotifier;
  /** Called with each decision's latency from receipt (metrics, the simulator). */
  onDecision?: (decision: RiskDecision) => void;
}

/**
 * The risk worker's logic for a batch of auth and failed_login events:
 * `assess` scores them (one Redis call for the batch) and records the
 * decisions; `enforce` turns them into locks, IP blocks and notices, unless
 * the mode is audit_only.
 */
export class RiskEngine {
  constructor(private readonly d: RiskEngineDeps) {}

  async assess(inputs: ScoredEventInput[]): Promise<RiskDecision[]> {
    const observations = inputs.map((i) => toObservation(i.event, i.sourceApp, i.receivedAt)).filter((o) => o !== null);
    if (observations.length === 0) return [];
    for (const o of observations) o.sharesIpReputation = await this.d.ipReputation.sharedBy(o.sourceApp);
    const policy = await this.d.policy();
    const signals = await this.d.state.observe(observations, {
      accountWindowMs: policy.lockout.windowMinutes * 60_000,
      ipWindowMs: policy.ipWindowMinutes * 60_000,
    });
    const decidedAt = new Date();
    const decisions = observations.map((observation, i) => ({ observation, assessment: scoreEvent(observation, signals[i]!, policy), mode: policy.mode, decidedAt }));
    await Promise.all([this.d.subjects.recordDecisions(decisions), this.d.recent.add(decisions)]);
    for (const decision of decisions) this.d.onDecision?.(decision);
    return decisions;
  }

  async enforce(decisions: RiskDecision[]): Promise<void> {
    const enforced = decisions.filter((d) => d.mode === 'enforce' && d.assessment.action !== 'none');
    if (enforced.length === 0) return;
    const policy = await this.d.policy();
    const actions: RiskAction[] = [];
    // In order: a later event of the batch must see the lock an earlier one set.
    for (const decision of enforced) actions.push(...(await this.actionsFor(decision, policy)));
    await this.d.emitter.emit(actions);
  }

  private async actionsFor({ observation: o, assessment: a }: RiskDecision, policy: RiskPolicy): Promise<RiskAction[]> {
    const actions: RiskAction[] = [];
    const builtIn = o.sourceApp === OWN_SOURCE_APP;
    const detection = {
      threat: threatOf(a),
      reason: reasonOf(a),
      trigger_event_id: o.eventId,
      session_id: o.sessionId,
      risk_score: a.score,
      risk_level: a.level,
      factors: a.factors.map(({ signal, points, reason }) => ({ signal, points, reason })),
    };
    // Built-in users: the API's login guard already locks on failed logins,
    // synchronously; the worker adds locks only for what the guard cannot see
    // (many IPs, impossible travel, unfamiliar devices). A login with an
    // unknown email has no account to lock.
    const lock = builtIn ? o.userId !== null && a.level === 'high' && accountPointsBeyondFailures(a) >= ACCOUNT_LOCK_POINTS : a.lockAccount;
    if (lock && o.subject) {
      const locked = await this.d.subjects.lock({
        sourceApp: o.sourceApp,
        subject: o.subject,
        builtIn,
        actionKey: `lock|${o.attemptKey}|${o.subject}`,
        eventAt: new Date(o.at),
        ip: o.ip,
        policy: policy.lockout,
        payload: detection,
      });
      if (locked) actions.push(...locked);
    }
    // Built-in users: a password check (failed or passed) scored above low asks their next login from an
    // unfamiliar device or network for a mailed code (the API enforces it); not once a step-up was passed.
    if (builtIn && o.userId && (o.isFailure || o.isSuccess) && !o.steppedUp && stepUpPoints(o, a, policy) >= MEDIUM_AT) {
      await this.d.users.requireStepUp(o.userId, new Date(o.at));
    }
    // Blocks guard our own login, so only apps that share IP reputation set them; for
    // any other app the decision's `block` stays its own advice (see docs/tenancy.md).
    if (o.ip && o.sharesIpReputation) {
      if (a.blockIp) actions.push(...(await this.block(o, 'caller', detection, strongestFactor(a.factors, 'ip', policy), policy)));
      if (a.blockSite) actions.push(...(await this.block(o, 'site', detection, strongestFactor(a.factors, 'site', policy), policy)));
    }
    if (a.level === 'high' && !builtIn && o.subject && (await this.d.webhooks.wants(o.sourceApp, 'subject.high_risk'))) {
      const recorded = await this.d.subjects.recordAction(`high|${o.attemptKey}|${o.subject}`, 'high_risk', o.sourceApp, o.subject, o.ip, {
        ...detection,
        at: new Date().toISOString(),
      });
      if (recorded) actions.push(recorded);
    }
    return actions;
  }

  /** Blocks the event's caller (an IPv6 /64) or its IPv6 site (/48) at our login, and records the action once. */
  private async block(o: RiskObservation, range: BlockRange, detection: Partial<RiskActionPayload>, factor: BlockFigures | null, policy: RiskPolicy): Promise<RiskAction[]> {
    const ip = o.ip!;
    const blocked = blockedRange(ip, range);
    // A caller's block is keyed by the address, as before sites were blocked: a retried job recognises its own.
    const key = `block|${range === 'site' ? blocked : ip}|${o.attemptKey}`;
    if (!(await this.d.ipBlocks.block(ip, policy.ipBlockMinutes, key, range))) return [];
    const recorded = await this.d.subjects.recordAction(key, 'ip_blocked', o.sourceApp, o.subject, ip, {
      ...detection,
      blocked_range: blocked,
      block_minutes: policy.ipBlockMinutes,
      blocked_until: new Date(Date.now() + policy.ipBlockMinutes * 60_000).toISOString(),
      request_count: factor?.count ?? 0,
      limit_threshold: factor?.limit ?? 0,
      window_minutes: factor?.windowMinutes ?? 0,
      at: new Date().toISOString(),
    });
    return recorded ? [recorded] : [];
  }
}

/** The points that may ask for a step-up: an IP that is never blocked (loopback, a trusted proxy) cannot ask for one either. */
function stepUpPoints(o: RiskObservation, a: RiskAssessment, policy: RiskPolicy): number {
  if (!o.ip || !policy.neverBlockIps.has(o.ip)) return a.score;
  return a.factors.filter((f) => f.scope === 'account').reduce((sum, f) => sum + f.points, 0);
}

/** Account points other than the failure count (which the built-in login guard handles itself). */
function accountPointsBeyondFailures(a: RiskAssessment): number {
  return a.factors.filter((f) => f.scope === 'account' && f.signal !== 'account_failures' && f.signal !== 'failed_attempt').reduce((sum, f) => sum + f.points, 0);
}

/** The attack a decision most looks like, named for the security event and the webhook. */
export function threatOf(a: RiskAssessment): string {
  const top = [...a.factors].sort((x, y) => y.points - x.points)[0]?.signal;
  switch (top) {
    case 'account_failures':
      return 'brute_force';
    case 'account_many_ips':
      return 'distributed_brute_force';
    case 'ip_many_accounts':
    case 'site_many_accounts':
      return 'credential_stuffing';
    case 'impossible_travel':
      return 'impossible_travel';
    case 'attempt_rate':
    case 'site_attempt_rate':
      return 'automated_attack';
    case 'known_bad_ip':
      return 'known_bad_ip';
    default:
      return 'suspicious_login';
  }
}

function reasonOf(a: RiskAssessment): string {
  return `risk ${a.score} (${a.level}): ${a.factors.map((f) => f.reason).join('; ')}`;
}

/** The numbers behind a block of an IP or a site, for its rate_limit_violations row. */
interface BlockFigures {
  count: number;
  limit: number;
  windowMinutes: number;
}

function strongestFactor(factors: RiskFactor[], scope: 'ip' | 'site', policy: RiskPolicy): BlockFigures | null {
  const top = factors.filter((f) => f.scope === scope).sort((x, y) => y.points - x.points)[0];
  if (!top) return null;
  const windowMinutes = top.signal === 'attempt_rate' || top.signal === 'site_attempt_rate' ? 1 : top.signal === 'ip_many_accounts' || top.signal === 'site_many_accounts' ? policy.ipWindowMinutes : 0;
  return { count: top.value ?? 1, limit: top.threshold ?? 0, windowMinutes };
}

import { toClickHouseTime } from '../../../domain/event-row';
import type { RiskMode } from './risk-policy';
import type { RiskObservation } from './risk-observation';
import type { RiskAssessment } from './risk-score';

/** One scored event: what was seen, what the score says, and whether it was enforced. */
export interface RiskDecision {
  observation: RiskObservation;
  assessment: RiskAssessment;
  mode: RiskMode;
  decidedAt: Date;
}

/** The decision as the columns stored with the event (clickhouse/006_risk_decisions.sql). */
export function riskColumns(d: RiskDecision): Record<string, unknown> {
  const factors: Record<string, number> = {};
  const reasons: Record<string, string> = {};
  for (const f of d.assessment.factors) {
    factors[f.signal] = f.points;
    reasons[f.signal] = f.reason;
  }
  return {
    risk_score: d.assessment.score,
    risk_level: d.assessment.level,
    risk_action: d.assessment.action,
    risk_mode: d.mode,
    risk_factors: factors,
    risk_reasons: reasons,
    risk_decided_at: toClickHouseTime(d.decidedAt),
  };
}

/** The decision as the subject API and webhooks show it. */
export function publicDecision(d: RiskDecision) {
  return {
    event_id: d.observation.eventId,
    occurred_at: new Date(d.observation.at).toISOString(),
    decided_at: d.decidedAt.toISOString(),
    risk_score: d.assessment.score,
    risk_level: d.assessment.level,
    risk_action: d.assessment.action,
    mode: d.mode,
    factors: d.assessment.factors.map(({ signal, points, reason }) => ({ signal, points, reason })),
  };
}

export type PublicDecision = ReturnType<typeof publicDecision>;

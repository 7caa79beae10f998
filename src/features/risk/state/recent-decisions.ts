import type { Redis } from 'ioredis';
import { publicDecision, type PublicDecision, type RiskDecision } from '../domain/risk-decision';
import type { RiskState } from './risk-state';

/** Decisions kept per subject for GET /v1/subjects/:user_id, newest first. */
export const RECENT_DECISIONS = 10;
const TTL_SECONDS = 7 * 24 * 3600;

/** A subject's last few decisions, in Redis (a capped list with a TTL). */
export class RecentDecisions {
  constructor(
    private readonly redis: Redis,
    private readonly state: RiskState,
  ) {}

  async add(decisions: RiskDecision[]): Promise<void> {
    const pipeline = this.redis.pipeline();
    let any = false;
    for (const d of decisions) {
      if (!d.observation.subject) continue;
      const key = `${this.state.subjectKey(d.observation.sourceApp, d.observation.subject)}:r`;
      pipeline.lpush(key, JSON.stringify(publicDecision(d)));
      pipeline.ltrim(key, 0, RECENT_DECISIONS - 1);
      pipeline.expire(key, TTL_SECONDS);
      any = true;
    }
    if (any) await pipeline.exec();
  }

  async list(sourceApp: string, subject: string): Promise<PublicDecision[]> {
    const items = await this.redis.lrange(`${this.state.subjectKey(sourceApp, subject)}:r`, 0, RECENT_DECISIONS - 1);
    const seen = new Set<string>();
    // A retried job may have pushed a decision twice; show each event once.
    return items.map((i) => JSON.parse(i) as PublicDecision).filter((d) => !seen.has(d.event_id) && seen.add(d.event_id));
  }
}

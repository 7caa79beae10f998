import type { AnalystLimits } from '../../config/env';
import type { AnalystQueryRequest } from '../../domain/analyst-query';
import { clickHouseException, type ClickHouseException } from '../../lib/clickhouse-exception';
import type { AnalystQueryOutcome, AnalystQueryRunner } from './analyst-query-runner';
import type { ApiKeyService, AuthenticatedKey } from '../api-keys/api-key.service';

/** Who may query (an API key with the query scope) and under which limits. */
export class AnalystQueryService {
  constructor(
    private readonly keys: ApiKeyService,
    private readonly runner: AnalystQueryRunner,
    private readonly limits: AnalystLimits,
    /** Queries run at once; more are refused (a result can be as large as the byte cap, and each holds one). */
    private readonly maxInFlight = 4,
  ) {}

  private inFlight = 0;

  /** The key behind a request, or the exception ClickHouse would answer a wrong password with. */
  async authenticate(key: string | null, user = 'default'): Promise<AuthenticatedKey | ClickHouseException> {
    if (!key) {
      return clickHouseException(
        'AUTHENTICATION_FAILED',
        `${user}: Authentication failed: send an API key with the query scope as the password (HTTP Basic auth, with any user name), in X-ClickHouse-Key, or as the password parameter`,
      );
    }
    const found = await this.keys.authenticate(key);
    if (!found) return clickHouseException('AUTHENTICATION_FAILED', `${user}: Authentication failed: password is incorrect, or the API key is revoked`);
    if (!found.scopes.includes('query')) return clickHouseException('ACCESS_DENIED', `${found.name}: Not enough privileges: this API key lacks the query scope`);
    // A key restricted to apps is served: the runner has ClickHouse filter every table to its apps (src/features/analyst/analyst-app-restriction.ts).
    return found;
  }

  /**
   * Runs a query within the bound on queries in flight. `deliver`, when given, hands the outcome on
   * (compressing the result, say) before the query's place is freed: a result held counts until sent.
   */
  async run(request: AnalystQueryRequest, deliver?: (outcome: AnalystQueryOutcome) => Promise<void>): Promise<AnalystQueryOutcome> {
    if (this.inFlight >= this.maxInFlight) {
      const busy: AnalystQueryOutcome = {
        type: 'exception',
        exception: clickHouseException('TOO_MANY_SIMULTANEOUS_QUERIES', `Too many simultaneous queries. Maximum: ${this.maxInFlight}`),
      };
      await deliver?.(busy);
      return busy;
    }
    this.inFlight++;
    try {
      const outcome = await this.runner.run(request, this.limits);
      await deliver?.(outcome);
      return outcome;
    } finally {
      this.inFlight--;
    }
  }
}

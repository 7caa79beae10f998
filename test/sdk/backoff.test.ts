import { backoffMs, isRetryableStatus, retryAfterMs } from '../../clients/typescript/src/backoff';

describe('@auditflow/client retry rules', () => {
  it('retries 429, 503 and 5xx, never another 4xx', () => {
    expect([429, 500, 502, 503, 504].map(isRetryableStatus)).toEqual([true, true, true, true, true]);
    expect([400, 401, 403, 404, 409, 413, 415, 422].map(isRetryableStatus)).toEqual(Array(8).fill(false));
  });

  it('reads Retry-After as delta-seconds or as an HTTP date', () => {
    const now = Date.parse('2026-12-04T20:00:00Z');
    expect(retryAfterMs('1', now)).toBe(1000);
    expect(retryAfterMs(' 120 ', now)).toBe(120_000);
    expect(retryAfterMs('Fri, 04 Dec 2026 20:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Fri, 04 Dec 2026 19:59:00 GMT', now)).toBe(0);
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('-3', now)).toBeUndefined();
  });

  it('draws full-jitter backoff in [0, min(max, initial·2^attempt)]', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const cap = Math.min(30_000, 200 * 2 ** attempt);
      for (let i = 0; i < 50; i++) {
        const delay = backoffMs(attempt, 200, 30_000);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(cap);
      }
    }
  });
});

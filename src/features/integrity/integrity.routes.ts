import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { VerificationResult } from '../../domain/verification';
import type { VerifyRange } from './integrity-verifier';
import type { VerificationRun } from './verification-run.repository';
import { requestActor, type PrivilegedActionAuditor } from '../audit/privileged-action-auditor';
import { integrityVerified } from '../audit/privileged-actions';
import { validate } from '../../http/validate';

export interface IntegrityChecker {
  verify(range: VerifyRange): Promise<VerificationResult>;
  /** The latest recorded runs, newest first. */
  runs(limit: number): Promise<VerificationRun[]>;
}

export const runsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(1).describe('How many runs, newest first (1-100, default 1)'),
});

export const verifyQuery = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional().describe('Only seals made at or after this time'),
  to: z.iso.datetime({ offset: true }).optional().describe('Only seals made before this time'),
});

/** GET /v1/integrity/verify: the same check as `auditflow verify`, for whoever may read reports (`guard`). */
export function integrityRoutes(integrity: IntegrityChecker, guard: RequestHandler, audit: PrivilegedActionAuditor): Router {
  const router = Router();
  router.get('/v1/integrity/verify', guard, async (req, res) => {
    const query = validate(verifyQuery, req.query);
    const started = performance.now();
    const result = await integrity.verify({ from: query.from ? new Date(query.from) : undefined, to: query.to ? new Date(query.to) : undefined });
    audit.record(requestActor(res.locals.ctx), integrityVerified(result, started));
    res.json(result);
  });
  router.get('/v1/integrity/runs', guard, async (req, res) => {
    const query = validate(runsQuery, req.query);
    res.json({ runs: await integrity.runs(query.limit) });
  });
  return router;
}

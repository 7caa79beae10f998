import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { VerificationResult, VerifyRange } from '../../workers/integrity-verifier';
import { requestActor, type PrivilegedActionAuditor } from '../audit/privileged-action-auditor';
import { integrityVerified } from '../audit/privileged-actions';
import { validate } from '../validate';

export interface IntegrityChecker {
  verify(range: VerifyRange): Promise<VerificationResult>;
}

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
  return router;
}

import { Router } from 'express';
import { z } from 'zod';
import type { VerificationResult, VerifyRange } from '../../workers/integrity-verifier';
import type { ApiKeyService } from '../keys/api-key.service';
import { requireScope } from '../keys/require-scope';
import { validate } from '../validate';

export interface IntegrityChecker {
  verify(range: VerifyRange): Promise<VerificationResult>;
}

export const verifyQuery = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional().describe('Only seals made at or after this time'),
  to: z.iso.datetime({ offset: true }).optional().describe('Only seals made before this time'),
});

/** GET /v1/integrity/verify: the same check as `auditflow verify`, for keys with the reports scope. */
export function integrityRoutes(integrity: IntegrityChecker, keys: ApiKeyService): Router {
  const router = Router();
  router.get('/v1/integrity/verify', requireScope(keys, 'reports'), async (req, res) => {
    const query = validate(verifyQuery, req.query);
    const result = await integrity.verify({ from: query.from ? new Date(query.from) : undefined, to: query.to ? new Date(query.to) : undefined });
    res.json(result);
  });
  return router;
}

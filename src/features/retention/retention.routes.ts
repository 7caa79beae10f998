import { Router, type RequestHandler } from 'express';
import { validate } from '../../http/validate';
import type { RetentionPolicyService } from './retention-policy.service';
import { tableParams, updatePolicyBody } from './retention.schemas';

/** Who may read the policies, and who may change them. */
export interface RetentionAccess {
  read: RequestHandler;
  manage: RequestHandler;
}

/** /v1/retention-policies: data_retention_policies, for `retention` keys and administrators. */
export function retentionRoutes(policies: RetentionPolicyService, access: RetentionAccess): Router {
  const router = Router();

  router.get('/v1/retention-policies', access.read, async (_req, res) => {
    res.json({ policies: await policies.list() });
  });

  router.patch('/v1/retention-policies/:table', access.manage, async (req, res) => {
    const { table } = validate(tableParams, req.params);
    const { reason, ...change } = validate(updatePolicyBody, req.body);
    res.json(await policies.update(table, change, reason, res.locals.ctx));
  });

  return router;
}

import { Router } from 'express';
import { z } from 'zod';
import type { ApiKeyService } from '../api-keys/api-key.service';
import { requireScope } from '../api-keys/require-scope';
import { validate } from '../../http/validate';
import type { SubjectService } from './subject.service';

export const subjectParams = z.strictObject({ user_id: z.string().min(1).max(128) });

/** /v1/subjects: risk and lock state of an app's own users, for keys with the risk scope. */
export function subjectsRoutes(subjects: SubjectService, keys: ApiKeyService): Router {
  const router = Router();
  const auth = requireScope(keys, 'risk');

  router.get('/v1/subjects/:user_id', auth, async (req, res) => {
    const { user_id } = validate(subjectParams, req.params);
    res.json(await subjects.get(res.locals.apiKey!.app, user_id));
  });

  router.delete('/v1/subjects/:user_id/lock', auth, async (req, res) => {
    const { user_id } = validate(subjectParams, req.params);
    res.json(await subjects.unlock(res.locals.apiKey!.app, user_id, `api_key:${res.locals.apiKey!.id}`));
  });
  return router;
}

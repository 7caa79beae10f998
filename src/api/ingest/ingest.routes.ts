import express, { Router } from 'express';
import { AppError } from '../../lib/app-error';
import type { ApiKeyService } from '../keys/api-key.service';
import { requireScope } from '../keys/require-scope';
import type { IngestService } from './ingest.service';

export function ingestRoutes(ingest: IngestService, keys: ApiKeyService, bodyLimitBytes: number): Router {
  const router = Router();
  router.post(
    '/v1/events',
    requireScope(keys, 'ingest'),
    (req, _res, next) => {
      if (!req.is(['application/json', 'application/*+json'])) {
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the events as JSON with Content-Type: application/json');
      }
      next();
    },
    (_req, _res, next) => {
      ingest.admit();
      next();
    },
    express.json({ limit: bodyLimitBytes, strict: false, type: () => true }),
    async (req, res) => {
      const result = await ingest.ingest(res.locals.apiKey!.app, req.body);
      res.status(result.status).json(result.body);
    },
  );
  return router;
}

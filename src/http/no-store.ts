import type { RequestHandler } from 'express';

/**
 * `Cache-Control: no-store` on every API answer, set before any route: /me,
 * admin user lists, dashboard timelines and reports carry personal data that
 * no browser or proxy cache may keep. A route that serves public, cacheable
 * content (the dashboard page) sets its own header over this one.
 */
export function noStore(): RequestHandler {
  return (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  };
}

import path from 'node:path';
import { Router, static as serveStatic, type RequestHandler } from 'express';

export const DASHBOARD_PATH = '/dashboard';

/** The browser code, served as written (web/dashboard at the package root, from src/ and dist/ alike). */
const WEB_DIR = path.resolve(__dirname, '..', '..', '..', 'web', 'dashboard');
/** uPlot, from its npm package: nothing is loaded from anywhere but this server. */
const UPLOT_DIR = path.join(path.dirname(require.resolve('uplot/package.json')), 'dist');

/**
 * Scripts and styles from this origin only, no inline script or style, and
 * Trusted Types: the page builds its DOM with textContent, and any
 * innerHTML-style assignment would throw, so event fields (which attackers
 * control) can only ever be text.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  'trusted-types',
].join('; ');

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Content-Security-Policy': DASHBOARD_CSP,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
  });
  next();
};

/**
 * /dashboard: one HTML page whose scripts route between views by the URL
 * hash, and its assets. The data comes from the JSON API with the token the
 * page keeps in sessionStorage, so no cookie is involved (and no CSRF).
 */
export function dashboardPageRoutes(): Router {
  const router = Router();
  // The root leads somewhere: a browser to the dashboard, a program to where things are.
  router.get('/', (req, res) => {
    if (req.accepts(['json', 'html']) === 'html') res.redirect(302, DASHBOARD_PATH);
    else res.json({ name: 'auditflow', dashboard: DASHBOARD_PATH, api_docs: '/docs', openapi: '/openapi.json', health: '/healthz', readiness: '/readyz' });
  });
  // Browsers ask for it at the root whatever the page says.
  router.get('/favicon.ico', (_req, res) => res.redirect(301, `${DASHBOARD_PATH}/assets/favicon.svg`));
  router.use(DASHBOARD_PATH, securityHeaders);
  router.get(DASHBOARD_PATH, (_req, res) => {
    res.set('Cache-Control', 'no-cache').sendFile(path.join(WEB_DIR, 'index.html'));
  });
  router.use(`${DASHBOARD_PATH}/assets`, serveStatic(WEB_DIR, { index: false, maxAge: '5m' }));
  router.use(`${DASHBOARD_PATH}/vendor/uplot`, serveStatic(UPLOT_DIR, { index: false, maxAge: '1h' }));
  return router;
}

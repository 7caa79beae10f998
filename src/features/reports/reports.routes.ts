import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { REPORT_TYPES, reportScopeApps, unfinishedPeriod, type SignedReport } from '../../domain/report';
import { reportCsv } from './report-rendering';
import { AppError } from '../../lib/errors/app-error';
import { actorLabel } from '../admin/require-admin-or-key';
import { requestActor, type PrivilegedActionAuditor } from '../audit/privileged-action-auditor';
import { reportDownloaded, reportGenerated, reportVerified, signingKeyExported } from '../audit/privileged-actions';
import { NAME_PATTERN } from '../api-keys/api-key.service';
import { boundedApps, readableApps, withinApps } from '../api-keys/app-restriction';
import { validate } from '../../http/validate';
import { reportPdf } from './report-pdf';
import type { ReportVerificationService } from './report-verification.service';
import type { ReportRepository } from './report.repository';

export interface ReportGenerator {
  /** `apps`: a report scoped to those apps (sorted, no repeats); absent, a global report. */
  generate(type: SignedReport['report_type'], start: Date, end: Date, generatedBy: string, apps?: string[]): Promise<{ id: string; created: boolean }>;
}

const appName = () => z.string().regex(NAME_PATTERN, 'must be an app name (1-100 letters, digits, dot, dash or underscore)');

export const listQuery = z.strictObject({
  type: z.enum(REPORT_TYPES).optional(),
  app: appName().optional().describe('Only reports whose scope names this app'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
export const downloadQuery = z.strictObject({ format: z.enum(['json', 'csv', 'pdf']).default('json') });
export const generateBody = z
  .strictObject({
    type: z.enum(REPORT_TYPES),
    period_start: z.iso.datetime({ offset: true }),
    period_end: z.iso.datetime({ offset: true }),
    apps: z
      .array(appName())
      .min(1, 'name at least one app')
      .max(100)
      .optional()
      .describe("Scope the report to these apps: its figures count only their rows (default: every app; for a key restricted to apps, the key's apps)"),
  })
  .refine((b) => new Date(b.period_start) < new Date(b.period_end), { message: 'period_start must be before period_end', path: ['period_end'] })
  .refine((b) => new Date(b.period_end).getTime() - new Date(b.period_start).getTime() <= 366 * 86_400_000, { message: 'a period may span at most 366 days', path: ['period_end'] });
export const submissionBody = z.strictObject({
  submitted_to_authority: z.boolean(),
  submission_date: z.iso.datetime({ offset: true }).nullable().optional(),
  authority_acknowledgment: z.string().max(2000).nullable().optional(),
});

export interface ReportsComponent {
  repository: ReportRepository;
  generator: ReportGenerator;
  verification: ReportVerificationService;
  /** The signing key's public half (PEM), for checking downloads offline. */
  publicKeyPem: string;
  /** Its key id, named in the audit event of an export. */
  publicKeyId?: string;
}

/** Who may read reports, and who may generate them and record their submission. */
export interface ReportsAccess {
  read: RequestHandler;
  manage: RequestHandler;
}

/**
 * /v1/reports: compliance reports for keys with the reports scope and for
 * administrators. A key restricted to apps (`access` serves it) lists,
 * downloads, verifies, updates and generates only reports scoped within its
 * apps; any other report answers 404, as a missing one does.
 */
export function reportsRoutes({ repository: reports, generator, verification, publicKeyPem, publicKeyId }: ReportsComponent, access: ReportsAccess, audit: PrivilegedActionAuditor): Router {
  const router = Router();

  router.get('/v1/reports', access.read, async (req, res) => {
    const query = validate(listQuery, req.query);
    const readable = readableApps(res.locals);
    // Naming another app is refused, not answered with an empty list: the filter is never trusted.
    if (query.app !== undefined) boundedApps(readable, query.app);
    res.json({ reports: await reports.list(query, readable) });
  });

  router.post('/v1/reports', access.manage, async (req, res) => {
    const body = validate(generateBody, req.body);
    const started = performance.now();
    const [start, end] = [new Date(body.period_start), new Date(body.period_end)];
    // The earlier of this host's clock and the database's: a clock stepped ahead on either does not make a period final early.
    const now = new Date(Math.min(Date.now(), (await reports.databaseNow()).getTime()));
    const unfinished = unfinishedPeriod(start, end, now);
    if (unfinished) throw new AppError('UNPROCESSABLE', unfinished);
    const readable = readableApps(res.locals);
    // A restricted key's report covers its apps unless it names fewer; never more.
    const apps = reportScopeApps(body.apps ?? readable);
    if (!withinApps(readable, apps)) throw new AppError('FORBIDDEN', `this API key may generate reports only for the apps ${readable!.join(', ')}`);
    const result = await generator.generate(body.type, start, end, actorLabel(res.locals), apps ?? undefined);
    audit.record(requestActor(res.locals.ctx), reportGenerated({ ...result, type: body.type, start, end, apps }, started));
    res.status(result.created ? 201 : 200).json(apps ? { ...result, scope: apps } : result);
  });

  // Before /v1/reports/:id, which would take "public-key" for an id.
  router.get('/v1/reports/public-key', access.read, (_req, res) => {
    audit.record(requestActor(res.locals.ctx), signingKeyExported(publicKeyId ?? 'unknown'));
    res.type('application/x-pem-file').attachment('auditflow-public-key.pem').send(publicKeyPem);
  });

  router.get('/v1/reports/:id', access.read, async (req, res) => {
    const { format } = validate(downloadQuery, req.query);
    const row = await reports.byId(req.params.id as string, readableApps(res.locals));
    if (!row) throw new AppError('NOT_FOUND', 'no such report');
    const report = row.report_data as unknown as SignedReport;
    const name = `auditflow-${report.report_type}-${report.period_start.slice(0, 10)}-${row.id}`;
    audit.record(requestActor(res.locals.ctx), reportDownloaded(String(row.id), format));
    if (format === 'csv') {
      res.type('text/csv').attachment(`${name}.csv`).send(reportCsv(report));
    } else if (format === 'pdf') {
      res
        .type('application/pdf')
        .attachment(`${name}.pdf`)
        .send(await reportPdf(report, { id: String(row.id) }));
    } else {
      // Exactly the signed document, so `auditflow report verify` can check the file offline.
      res
        .type('application/json')
        .attachment(`${name}.json`)
        .send(`${JSON.stringify(report, null, 2)}\n`);
    }
  });

  router.get('/v1/reports/:id/verification', access.read, async (req, res) => {
    const result = await verification.verify(req.params.id as string, readableApps(res.locals));
    audit.record(requestActor(res.locals.ctx), reportVerified(result.id, result));
    res.json(result);
  });

  router.patch('/v1/reports/:id', access.manage, async (req, res) => {
    const body = validate(submissionBody, req.body);
    const before = await reports.byId(req.params.id as string, readableApps(res.locals));
    if (!before) throw new AppError('NOT_FOUND', 'no such report');
    const after = await reports.setSubmission(before.id, {
      submitted_to_authority: body.submitted_to_authority,
      submission_date: body.submission_date ? new Date(body.submission_date) : body.submitted_to_authority ? (before.submission_date ?? new Date()) : null,
      authority_acknowledgment: body.authority_acknowledgment ?? null,
    });
    const pick = (r: typeof before) => ({
      submitted_to_authority: r.submitted_to_authority,
      submission_date: r.submission_date?.toISOString() ?? null,
      authority_acknowledgment: r.authority_acknowledgment,
    });
    audit.record(requestActor(res.locals.ctx), {
      type: 'report_submission_updated',
      action: 'UPDATE',
      target: { type: 'COMPLIANCE_REPORT', id: String(before.id) },
      previous: pick(before),
      next: pick(after!),
    });
    const { report_data: _content, ...summary } = after!;
    res.json(summary);
  });

  return router;
}

/**
 * Issue 12 §12: data at rest and in responses. The embedded ClickHouse store
 * was 0644 files in 0755 directories and the mail directory listable, so any
 * local user could grep emails out of the audit trail; responses carrying
 * personal data could be kept by a browser or proxy cache.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Pool } from 'pg';
import { AdminAccountService } from '../../src/features/admin/admin-account.service';
import { AdministratorRepository } from '../../src/features/admin/administrator.repository';
import { LoginGuard } from '../../src/features/auth/login-guard';
import { api, signUp } from '../helpers/accounts';
import { spawnAuditflow, type AuditflowProcess } from '../helpers/child';
import { createApiKey, postEvents } from '../helpers/stack';
import { createNamespace, eventually } from '../helpers/test-env';

const ns = createNamespace('datarest');
let child: AuditflowProcess | undefined;
const PASSWORD = 'admin passphrase of some length';

afterAll(async () => {
  if (child && child.child.exitCode === null) {
    child.child.kill('SIGKILL');
    await child.exited;
  }
  await ns.cleanup();
});

/** Every path under dir (itself included) whose mode gives group or other any bit. */
function looseEntries(dir: string): string[] {
  const loose: string[] = [];
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    if ((fs.lstatSync(current).mode & 0o077) !== 0) loose.push(`${current} ${(fs.lstatSync(current).mode & 0o777).toString(8)}`);
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else if (entry.isFile() && (fs.lstatSync(full).mode & 0o077) !== 0) loose.push(`${full} ${(fs.lstatSync(full).mode & 0o777).toString(8)}`);
    }
  }
  return loose;
}

it('keeps DATA_DIR owner-only: the store, mail and spool chDB and auditflow write, and an older tree left world-readable', async () => {
  // A DATA_DIR from before the fix: world-readable directory and file.
  fs.chmodSync(ns.dataDir, 0o755);
  fs.mkdirSync(path.join(ns.dataDir, 'mail'), { mode: 0o755 });
  fs.writeFileSync(path.join(ns.dataDir, 'mail', 'old-victim@example.com.eml'), 'To: victim@example.com\n', { mode: 0o644 });
  fs.chmodSync(path.join(ns.dataDir, 'mail'), 0o755);
  fs.chmodSync(path.join(ns.dataDir, 'mail', 'old-victim@example.com.eml'), 0o644);

  child = await spawnAuditflow(ns.env({ FLUSH_MAX_AGE_MS: '100' }));
  const base = `http://127.0.0.1:${child.port}`;
  const { token, userId } = await signUp(base, ns, 'rest-owner@example.com');
  const key = await createApiKey(ns, 'rest-app');
  const posted = await postEvents(
    base,
    key,
    Array.from({ length: 20 }, (_, i) => ({ kind: 'audit', event_type: 'profile_updated', user_id: `rest-${i}`, reason: 'personal data' })),
  );
  expect(posted.status).toBe(202);

  // §12 second half, on the same process: personal data is never cached.
  const pg = new Pool({ connectionString: ns.databaseUrl, max: 1 });
  try {
    await new AdminAccountService(new AdministratorRepository(pg), new LoginGuard(pg)).create({ email: 'rest-root@example.com', password: PASSWORD, admin_level: 5 });
  } finally {
    await pg.end();
  }
  const admin = (await api<{ token: string }>(base, 'POST', '/admin/login', { body: { email: 'rest-root@example.com', password: PASSWORD } })).body.token;
  const reads: [string, string][] = [
    ['/me', token],
    ['/admin/users', admin],
    [`/admin/users/${userId}`, admin],
    [`/v1/dashboard/users/${userId}/timeline`, admin],
  ];
  for (const [route, bearer] of reads) {
    const res = await fetch(`${base}${route}`, { headers: { authorization: `Bearer ${bearer}` } });
    expect([route, res.status]).toEqual([route, 200]);
    expect([route, res.headers.get('cache-control')]).toEqual([route, 'no-store']);
    expect([route, res.headers.get('etag')]).toEqual([route, null]);
  }
  // Errors too: a 401 or 404 body can name a user.
  expect((await fetch(`${base}/admin/users`)).headers.get('cache-control')).toBe('no-store');

  // Events reach the store (the writer flushes every 100 ms), then a clean stop flushes the rest.
  await eventually(async () => fs.existsSync(path.join(ns.dataDir, 'clickhouse')));
  child.child.kill('SIGTERM');
  expect((await child.exited).code).toBe(0);

  expect(fs.readdirSync(path.join(ns.dataDir, 'mail')).length).toBeGreaterThan(1);
  expect(fs.readdirSync(path.join(ns.dataDir, 'clickhouse')).length).toBeGreaterThan(0);
  expect(looseEntries(ns.dataDir)).toEqual([]);
}, 120_000);

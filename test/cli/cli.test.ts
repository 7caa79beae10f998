import { runCli, spawnAuditflow } from '../helpers/child';
import { postEvents } from '../helpers/stack';
import { createNamespace } from '../helpers/test-env';

const ns = createNamespace('cli');
afterAll(() => ns.cleanup());

describe('auditflow CLI', () => {
  it('creates a key (printed once, as the last line), lists and revokes it', async () => {
    const created = runCli(['apikey', 'create', '--name', 'billing', '--scopes', 'ingest,query'], ns.env());
    expect(created.code).toBe(0);
    const key = created.stdout.trim().split('\n').at(-1)!;
    expect(key).toMatch(/^af_[A-Za-z0-9_-]{43}$/);

    const listed = runCli(['apikey', 'list'], ns.env());
    expect(listed.stdout).toMatch(/billing\s+af_\S+…\s+ingest,query\s+active/);
    expect(listed.stdout).not.toContain(key);

    const server = await spawnAuditflow(ns.env({ ROLE: 'api', API_KEY_CACHE_MS: '0' }));
    try {
      const url = `http://127.0.0.1:${server.port}`;
      expect((await postEvents(url, key, { kind: 'audit', event_type: 'logout' })).status).toBe(202);
      const revoked = runCli(['apikey', 'revoke', 'billing'], ns.env());
      expect(revoked.code).toBe(0);
      expect(revoked.stdout).toMatch(/Revoked .* \(billing\)/);
      expect((await postEvents(url, key, { kind: 'audit', event_type: 'logout' })).status).toBe(401);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    expect(runCli(['apikey', 'list'], ns.env()).stdout).toMatch(/billing .* revoked/);
    const none = runCli(['apikey', 'revoke', 'billing'], ns.env());
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no active API key matches "billing"/);
  }, 60_000);

  it('creates several keys for one app with --app (default: the name)', () => {
    const created = runCli(['apikey', 'create', '--name', 'shop-2026', '--app', 'shop', '--scopes', 'ingest'], ns.env());
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/"shop-2026" for app "shop"/);
    expect(runCli(['apikey', 'list'], ns.env()).stdout).toMatch(/shop-2026\s+app=shop\s/);
    expect(runCli(['apikey', 'create', '--name', 'own', '--app', 'auditflow'], ns.env()).stderr).toMatch(/reserved/);
    const restricted = runCli(['apikey', 'create', '--name', 'analyst', '--scopes', 'query,reports', '--apps', 'shop,billing', '--trusted-ip-reputation'], ns.env());
    expect(restricted.stdout).toMatch(/restricted to shop,billing, trusted for shared IP reputation/);
    expect(runCli(['apikey', 'list'], ns.env()).stdout).toMatch(/analyst\s+app=analyst\s+.*apps=shop,billing\s+trusted-ip-reputation/);
  });

  it('rejects unknown scopes with a clear message', () => {
    const result = runCli(['apikey', 'create', '--name', 'x', '--scopes', 'ingest,root'], ns.env());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown: root/);
  });

  it('refuses a second process on the same data directory with a one-line reason', async () => {
    const owner = await spawnAuditflow(ns.env({ ROLE: 'worker' }));
    try {
      const second = runCli(['start'], ns.env({ ROLE: 'worker' }));
      expect(second.code).toBe(3);
      const lines = second.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`in use by another auditflow process \\(pid ${owner.child.pid}\\)`));
    } finally {
      owner.child.kill('SIGTERM');
      await owner.exited;
    }
    // Once the owner has stopped, the CLI opens the store itself.
    const replay = runCli(['dlq', 'replay'], ns.env());
    expect(replay.stdout).toMatch(/Re-queued 0 dead-lettered event/);
    expect(replay.code).toBe(0);
  }, 60_000);

  it('generates reports and verifies while the server runs (its worker does it) and while it is stopped (the CLI opens the store)', async () => {
    const day = ['--type', 'daily_security_summary', '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-02T00:00:00Z'];
    const owner = await spawnAuditflow(ns.env({ ROLE: 'worker' }));
    let first: string;
    try {
      const generated = runCli(['report', 'generate', ...day], ns.env());
      expect(generated.stdout).toMatch(/^Generated report (\d+) \(daily_security_summary, 2026-01-01T00:00:00.000Z to 2026-01-02T00:00:00.000Z\)/);
      expect(generated.code).toBe(0);
      first = /report (\d+)/.exec(generated.stdout)![1]!;
      const verified = runCli(['verify'], ns.env());
      expect(verified.stdout).toMatch(/^Verified: /m);
      expect(verified.code).toBe(0);
    } finally {
      owner.child.kill('SIGTERM');
      await owner.exited;
    }
    const again = runCli(['report', 'generate', ...day], ns.env());
    expect(again.stdout).toMatch(new RegExp(`^Already stored: report ${first}`));
    const weekly = runCli(['report', 'generate', '--type', 'weekly_access_review', '--from', '2026-01-05T00:00:00Z', '--to', '2026-01-12T00:00:00Z'], ns.env());
    expect(weekly.stdout).toMatch(/^Generated report \d+ \(weekly_access_review/);
    expect(weekly.code).toBe(0);
    expect(runCli(['verify'], ns.env()).code).toBe(0);
    const bad = runCli(['report', 'generate', '--type', 'yearly', '--from', '2026-01-01', '--to', '2026-02-01'], ns.env());
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--type must be one of daily_security_summary/);
  }, 90_000);

  it('explains a bad configuration and exits non-zero', () => {
    const result = runCli(['start'], ns.env({ PORT: 'abc' }));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/PORT: .*"abc"/);
  });
});

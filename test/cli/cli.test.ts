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

  it('explains a bad configuration and exits non-zero', () => {
    const result = runCli(['start'], ns.env({ PORT: 'abc' }));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/PORT: .*"abc"/);
  });
});

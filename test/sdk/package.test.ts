import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const packageDir = join(__dirname, '../../clients/typescript');

/** The package as an app installs it: built with its own tsconfig, loaded through its "exports" from CJS and ESM. */
describe('@auditflow/client package', () => {
  it('builds with its own tsconfig and loads through require() and import, as one module instance', async () => {
    await run(process.execPath, [join(__dirname, '../../node_modules/typescript/bin/tsc'), '-p', join(packageDir, 'tsconfig.json')]);
    // Self-reference by name resolves through the package's own "exports" map.
    const cjs = await run(process.execPath, ['-e', "const s = require('@auditflow/client'); console.log(typeof s.AuditflowClient, s.uuidv7().length)"], { cwd: packageDir });
    expect(cjs.stdout.trim()).toBe('function 36');
    const esm = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { AuditflowClient } from '@auditflow/client'; import { createRequire } from 'node:module'; console.log(AuditflowClient === createRequire(import.meta.url)('@auditflow/client').AuditflowClient)",
      ],
      { cwd: packageDir },
    );
    expect(esm.stdout.trim()).toBe('true');
  });

  it('flushes what is buffered when the process runs out of work, without close()', async () => {
    // Runs after the build above. A stand-in server: this is about the process lifecycle, not ingest.
    const received: string[] = [];
    const server = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      received.push(...(JSON.parse(body) as { event_id: string }[]).map((e) => e.event_id));
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":0,"duplicates":0,"rejected":0,"events":[]}');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const script = `
      const { AuditflowClient } = require('@auditflow/client');
      const c = new AuditflowClient({ url: ${JSON.stringify(url)}, apiKey: 'k', flushIntervalMs: 60000 });
      for (let i = 0; i < 3; i++) console.log(c.log({ kind: 'audit', event_type: 'profile_updated', user_id: 'u' + i }));
    `;
    const child = await run(process.execPath, ['-e', script], { cwd: packageDir });
    server.close();
    // The 60 s age timer did not hold the process open, and beforeExit sent the batch before it ended.
    expect(received).toEqual(child.stdout.trim().split('\n'));
    expect(received).toHaveLength(3);
  });
});

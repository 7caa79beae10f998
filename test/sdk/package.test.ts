import { execFile } from 'node:child_process';
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
      ['--input-type=module', '-e', "import { AuditflowClient } from '@auditflow/client'; import { createRequire } from 'node:module'; console.log(AuditflowClient === createRequire(import.meta.url)('@auditflow/client').AuditflowClient)"],
      { cwd: packageDir },
    );
    expect(esm.stdout.trim()).toBe('true');
  });
});

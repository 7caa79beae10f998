// One process of the flood scenario's load (test/faults/ingest-client.ts runLoadProcesses): runs an
// IngestLoad with the options in argv[2] and writes what it acknowledged to options.out. Plain JS that
// compiles the TypeScript it requires with @swc/core (already the tests' transformer), so the load runs
// the same code as in-process.
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), { filename, module: { type: 'commonjs' }, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } });
  module._compile(code, filename);
};

const options = JSON.parse(process.argv[2]);
const { IngestLoad } = require('./ingest-client.ts');

(async () => {
  const load = new IngestLoad(options);
  const startedAt = Date.now();
  await load.run();
  fs.writeFileSync(options.out, JSON.stringify({ acked: [...load.acked], statuses: load.statuses, offeredEvents: load.offeredEvents, resent: load.resent, startedAt, endedAt: Date.now() }));
  process.exit(0);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});

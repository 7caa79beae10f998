#!/usr/bin/env node
// biome-ignore lint/suspicious/noRedundantUseStrict: a CommonJS script (package.json sets no "type": "module"), not an ES module: this directive is what makes it strict
'use strict';
let cli;
try {
  cli = require('../dist/cli/index.js');
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND') {
    process.stderr.write('auditflow: not built yet; run `npm install` (it builds) or `npm run build`\n');
    process.exit(1);
  }
  throw error;
}
cli.run(process.argv).then((code) => {
  process.exitCode = code;
  // A finished command should not linger on an idle handle (a native engine, a socket).
  setTimeout(() => process.exit(), 500).unref();
});

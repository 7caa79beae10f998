// `npm run test:faults`: the long fault-injection scenarios (minutes each), one at a time, then the
// hostile-input and attack tests (which also run in `npm test`) and the existing tests that pin the
// other attacks (tampering, lockouts, risk blocks). The figures of the faults and the verdict of every
// attack test are written to docs/reliability.md when the run ends.
const os = require('node:os');
const path = require('node:path');

process.env.FAULTS_RESULTS_DIR ??= path.join(os.tmpdir(), 'auditflow-fault-results');

/** Existing tests that are part of the attack table: tampered rows and reports, brute force, stuffing. */
const ATTACK_TESTS = ['test/workers/integrity.test.ts', 'test/workers/reports.test.ts', 'test/api/lockout.test.ts', 'test/risk/risk-worker.test.ts'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['<rootDir>/test/faults/**/*.faults.ts', '<rootDir>/test/security/**/*.test.ts', ...ATTACK_TESTS.map((t) => `<rootDir>/${t}`)],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  globalTeardown: '<rootDir>/test/faults/global-teardown.ts',
  reporters: ['default', '<rootDir>/test/faults/attack-reporter.js'],
  testTimeout: 600000,
  maxWorkers: 1,
};

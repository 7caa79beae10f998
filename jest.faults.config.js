// `npm run test:faults`: the long fault-injection scenarios (minutes each), one at a time.
// Their figures are written to docs/reliability.md when the run ends.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/faults'],
  testMatch: ['**/*.faults.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  globalSetup: '<rootDir>/test/faults/global-setup.ts',
  globalTeardown: '<rootDir>/test/faults/global-teardown.ts',
  testTimeout: 600000,
  maxWorkers: 1,
};

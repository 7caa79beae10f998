// Records the verdict of every attack and hostile-input test of a `npm run test:faults` run, for
// test/faults/global-teardown.ts to put into docs/reliability.md. (Plain JS: Jest loads reporters untransformed.)
const fs = require('node:fs');
const path = require('node:path');

class AttackReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
    this.rows = [];
  }

  onTestResult(_test, result) {
    const file = path.relative(this.rootDir, result.testFilePath);
    if (file.startsWith(path.join('test', 'faults'))) return;
    for (const a of result.testResults) this.rows.push({ file, title: a.fullName, status: a.status, ms: a.duration ?? 0 });
    if (result.testExecError) this.rows.push({ file, title: `(the file failed to run: ${result.testExecError.message.split('\n')[0]})`, status: 'failed', ms: 0 });
  }

  onRunComplete() {
    const dir = process.env.FAULTS_RESULTS_DIR;
    if (!dir || this.rows.length === 0) return;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'attacks.json'), JSON.stringify(this.rows));
  }
}

module.exports = AttackReporter;

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
    // A filtered run (-t) skips most tests: keep the earlier verdict of every test that did not run this time.
    const file = path.join(dir, 'attacks.json');
    const ran = this.rows.filter((r) => r.status === 'passed' || r.status === 'failed');
    const earlier = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : [];
    const key = (r) => `${r.file}\u0000${r.title}`;
    const merged = new Map(earlier.map((r) => [key(r), r]));
    for (const r of ran) merged.set(key(r), r);
    fs.writeFileSync(file, JSON.stringify([...merged.values()]));
  }
}

module.exports = AttackReporter;

import fs from 'node:fs';
import path from 'node:path';
import { SERVER_NODE_FLAGS, withServerNodeFlags } from '../../src/roles/node-flags';

const ROOT = path.join(__dirname, '..', '..');

describe("the server's V8 flags", () => {
  it('are given by npm start and by the Dockerfile, exactly as listed', () => {
    const start = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    expect(start).toBe(`exec node ${SERVER_NODE_FLAGS.join(' ')} dist/main.js`);
    const cmd = /^CMD (\[.*\])$/m.exec(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    expect(JSON.parse(cmd!)).toEqual(['node', ...SERVER_NODE_FLAGS, 'dist/main.js']);
  });

  it("are added to a worker's execArgv unless the operator set the same flag", () => {
    expect(withServerNodeFlags([])).toEqual([...SERVER_NODE_FLAGS]);
    expect(withServerNodeFlags(['--cpu-prof'])).toEqual(['--cpu-prof', ...SERVER_NODE_FLAGS]);
    expect(withServerNodeFlags(['--max-semi-space-size=64'])).toEqual(['--max-semi-space-size=64', '--heap-growing-percent=60']);
    expect(withServerNodeFlags(['--heap-growing-percent=100', '--max-semi-space-size=64'])).toEqual(['--heap-growing-percent=100', '--max-semi-space-size=64']);
  });
});

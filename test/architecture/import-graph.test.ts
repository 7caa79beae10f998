import fs from 'node:fs';
import path from 'node:path';

/**
 * The layering of src/ (README "Where things are", docs/architecture.md), held
 * against the code's own imports: a folder imports only from folders below it,
 * feature folders import each other without a cycle, and no two files import
 * each other, directly or round a loop.
 */
const SRC = path.resolve(__dirname, '..', '..', 'src');

/** Bottom first. A file may import from its own layer and the layers before it. */
const LAYERS = ['lib', 'config', 'schemas', 'domain', 'queues', 'http', 'features', 'roles', 'main.ts', 'cli'];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

const files = sourceFiles(SRC);
const known = new Set(files);
const rel = (file: string) => path.relative(SRC, file).split(path.sep).join('/');

/** Every relative import of every file, resolved to a file of src/. */
const edges: [string, string][] = files.flatMap((file) => {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s+|import\s*\(\s*|require\s*\(\s*)['"](\.\.?\/[^'"]+)['"]/g)].flatMap((m) => {
    const base = path.resolve(path.dirname(file), m[1]!);
    const target = [base, `${base}.ts`, path.join(base, 'index.ts')].find((candidate) => known.has(candidate));
    return target ? [[rel(file), rel(target)] as [string, string]] : [];
  });
});

const layerOf = (file: string) => LAYERS.indexOf(file.split('/')[0]!);
const featureOf = (file: string) => (file.startsWith('features/') ? file.split('/')[1]! : null);

/** The strongly connected groups of more than one node (Tarjan). */
function cycles(nodes: string[], next: (node: string) => string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const to of next(node)) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const node of nodes) if (!index.has(node)) visit(node);
  return found;
}

it('reads the imports of every source file', () => {
  expect(files.length).toBeGreaterThan(100);
  expect(edges.length).toBeGreaterThan(500);
  for (const file of files) expect(LAYERS).toContain(rel(file).split('/')[0]);
});

it('has no import that runs up a layer', () => {
  const upward = edges.filter(([from, to]) => layerOf(to) > layerOf(from)).map(([from, to]) => `${from} -> ${to}`);
  expect(upward).toEqual([]);
});

it('has no two files that import each other, directly or round a loop', () => {
  const next = new Map<string, string[]>();
  for (const [from, to] of edges) next.set(from, [...(next.get(from) ?? []), to]);
  expect(cycles(files.map(rel), (file) => next.get(file) ?? [])).toEqual([]);
});

it('has no cycle between feature folders', () => {
  const next = new Map<string, Set<string>>();
  for (const [from, to] of edges) {
    const [a, b] = [featureOf(from), featureOf(to)];
    if (a && b && a !== b) next.set(a, (next.get(a) ?? new Set()).add(b));
  }
  expect(cycles([...next.keys()], (feature) => [...(next.get(feature) ?? [])])).toEqual([]);
});

it('keeps every source file under 400 lines', () => {
  const long = files.filter((file) => fs.readFileSync(file, 'utf8').split('\n').length > 400).map(rel);
  expect(long).toEqual([]);
});

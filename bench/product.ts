import path from 'node:path';

/**
 * The product code as `npm run build` emits it (dist/), loaded at run time.
 *
 * The bench is compiled separately (bench/tsconfig.json → dist-bench/), but it
 * must exercise exactly what `node dist/main.js` runs, and src/ resolves its
 * migration directories relative to its own location (dist/lib/../../clickhouse),
 * so a second copy compiled under dist-bench/ would not find them. Types come
 * from src/ (type-only), code comes from dist/.
 */
export const DIST_DIR = path.resolve(__dirname, '..', '..', 'dist');

function load<T>(relative: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(DIST_DIR, relative)) as T;
}

export const product = {
  start: () => load<typeof import('../src/start')>('start.js'),
  env: () => load<typeof import('../src/config/env')>('config/env.js'),
  logger: () => load<typeof import('../src/lib/logger')>('lib/logger.js'),
  clickhouse: () => load<typeof import('../src/lib/clickhouse')>('lib/clickhouse.js'),
  clickhouseMigrations: () => load<typeof import('../src/lib/clickhouse-migrations')>('lib/clickhouse-migrations.js'),
  pg: () => load<typeof import('../src/lib/pg')>('lib/pg.js'),
  pgMigrations: () => load<typeof import('../src/lib/pg-migrations')>('lib/pg-migrations.js'),
  apiKeyRepository: () => load<typeof import('../src/api/keys/api-key.repository')>('api/keys/api-key.repository.js'),
  apiKeyService: () => load<typeof import('../src/api/keys/api-key.service')>('api/keys/api-key.service.js'),
  event: () => load<typeof import('../src/schemas/event')>('schemas/event.js'),
  eventRow: () => load<typeof import('../src/domain/event-row')>('domain/event-row.js'),
  canonicalJson: () => load<typeof import('../src/domain/canonical-json')>('domain/canonical-json.js'),
  queuedEvent: () => load<typeof import('../src/domain/queued-event')>('domain/queued-event.js'),
  signingKey: () => load<typeof import('../src/lib/signing-key')>('lib/signing-key.js'),
  chainSealer: () => load<typeof import('../src/workers/chain-sealer')>('workers/chain-sealer.js'),
  writer: () => load<typeof import('../src/workers/clickhouse-writer')>('workers/clickhouse-writer.js'),
  deadLetters: () => load<typeof import('../src/workers/dead-letter.repository')>('workers/dead-letter.repository.js'),
  verifier: () => load<typeof import('../src/workers/integrity-verifier')>('workers/integrity-verifier.js'),
  seals: () => load<typeof import('../src/workers/seal.repository')>('workers/seal.repository.js'),
};

import path from 'node:path';

/**
 * The product code as `npm run build` emits it (dist/), loaded at run time.
 *
 * The bench and the traffic generators are compiled separately (bench/tsconfig.json → dist-bench/), but they
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
  start: () => load<typeof import('../src/roles/start')>('roles/start.js'),
  env: () => load<typeof import('../src/config/env')>('config/env.js'),
  zodConfig: () => load<typeof import('../src/schemas/zod-config')>('schemas/zod-config.js'),
  logger: () => load<typeof import('../src/lib/logger')>('lib/logger.js'),
  clickhouse: () => load<typeof import('../src/lib/clickhouse')>('lib/clickhouse.js'),
  clickhouseInsert: () => load<typeof import('../src/lib/clickhouse-insert')>('lib/clickhouse-insert.js'),
  clickhouseMigrations: () => load<typeof import('../src/lib/clickhouse-migrations')>('lib/clickhouse-migrations.js'),
  pg: () => load<typeof import('../src/lib/pg')>('lib/pg.js'),
  pgMigrations: () => load<typeof import('../src/lib/pg-migrations')>('lib/pg-migrations.js'),
  apiKeyRepository: () => load<typeof import('../src/features/api-keys/api-key.repository')>('features/api-keys/api-key.repository.js'),
  apiKeyService: () => load<typeof import('../src/features/api-keys/api-key.service')>('features/api-keys/api-key.service.js'),
  event: () => load<typeof import('../src/schemas/event')>('schemas/event.js'),
  eventRow: () => load<typeof import('../src/domain/event-row')>('domain/event-row.js'),
  canonicalJson: () => load<typeof import('../src/domain/canonical-json')>('domain/canonical-json.js'),
  sha256: () => load<typeof import('../src/domain/sha256')>('domain/sha256.js'),
  queuedEvent: () => load<typeof import('../src/domain/queued-event')>('domain/queued-event.js'),
  signingKey: () => load<typeof import('../src/lib/signing-key')>('lib/signing-key.js'),
  chainSealer: () => load<typeof import('../src/features/integrity/chain-sealer')>('features/integrity/chain-sealer.js'),
  writer: () => load<typeof import('../src/features/ingest/writer/clickhouse-writer')>('features/ingest/writer/clickhouse-writer.js'),
  compactRows: () => load<typeof import('../src/features/ingest/writer/compact-rows')>('features/ingest/writer/compact-rows.js'),
  idempotencyRecords: () => load<typeof import('../src/queues/idempotency-records')>('queues/idempotency-records.js'),
  storedRowsQuery: () => load<typeof import('../src/features/ingest/writer/stored-rows-query')>('features/ingest/writer/stored-rows-query.js'),
  deadLetters: () => load<typeof import('../src/features/ingest/dead-letters/dead-letter.repository')>('features/ingest/dead-letters/dead-letter.repository.js'),
  verifier: () => load<typeof import('../src/features/integrity/integrity-verifier')>('features/integrity/integrity-verifier.js'),
  seals: () => load<typeof import('../src/features/integrity/seal.repository')>('features/integrity/seal.repository.js'),
};

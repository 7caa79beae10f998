import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/env';

/**
 * No Docker engine runs the tests, so this reads docker-compose.yml the way
 * Compose would (merge keys included) and checks what the deployment relies on,
 * with auditflow's own configuration parser.
 */
interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  deploy?: { replicas?: number };
  healthcheck?: { test?: string[]; disable?: boolean };
  stop_grace_period?: string;
  depends_on?: Record<string, { condition: string }>;
}

const ROOT = path.resolve(__dirname, '..', '..');
const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
/** The values Compose substitutes when .env sets nothing: `${NAME:-default}` → default. */
const substituted = (env: Record<string, string>) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{\w+:-([^}]*)\}/g, '$1')]));
const auditflow = Object.entries(services).filter(([, s]) => s.image === 'auditflow:local');
const configOf = (name: string) => loadConfig(substituted(services[name]!.environment ?? {}));
const seconds = (duration: string) => Number(/^(\d+)s$/.exec(duration)?.[1]);

describe('docker-compose.yml', () => {
  it('runs api x1, worker x2 and scheduler x1, each role in its own containers', () => {
    expect(configOf('api').roles).toEqual(['api']);
    expect(configOf('worker').roles).toEqual(['worker']);
    expect(configOf('scheduler').roles).toEqual(['scheduler']);
    expect(services.api!.deploy?.replicas ?? 1).toBe(1);
    expect(services.worker!.deploy?.replicas).toBe(2);
    expect(services.scheduler!.deploy?.replicas ?? 1).toBe(1);
  });

  it('gives every auditflow container a valid configuration on the ClickHouse server, Redis and PostgreSQL services', () => {
    expect(auditflow.map(([name]) => name).sort()).toEqual(['api', 'migrate', 'scheduler', 'worker']);
    for (const [name] of auditflow) {
      const config = configOf(name);
      expect(config.clickhouse).toMatchObject({ mode: 'server', url: 'http://clickhouse:8123' });
      expect(new URL(config.redisUrl).hostname).toBe('redis');
      expect(new URL(config.databaseUrl).hostname).toBe('postgres');
    }
  });

  it('mounts one shared keys volume at KEYS_DIR wherever a role signs, verifies or decrypts', () => {
    expect(compose.volumes).toHaveProperty('keys');
    for (const name of ['api', 'worker']) {
      const keysDir = configOf(name).keysDir;
      expect(services[name]!.volumes).toContain(`keys:${keysDir}`);
    }
  });

  it('probes /readyz where each role serves it, and lets the final flush finish before SIGKILL', () => {
    for (const name of ['api', 'worker', 'scheduler']) {
      const config = configOf(name);
      const port = config.roles.includes('api') ? config.port : config.metricsPort;
      expect(port).toBeDefined();
      expect(services[name]!.healthcheck!.test!.join(' ')).toContain(`http://127.0.0.1:${port}/readyz`);
      expect(seconds(services[name]!.stop_grace_period!) * 1000).toBeGreaterThan(config.shutdownTimeoutMs);
    }
  });

  it('starts the roles only after the one-shot migrate has succeeded', () => {
    expect(services.migrate!.command).toEqual(['node', 'bin/auditflow.js', 'migrate']);
    for (const name of ['api', 'worker', 'scheduler']) expect(services[name]!.depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
  });

  it('runs Redis with AOF and noeviction', () => {
    const command = services.redis!.command!.join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
    expect(command).toMatch(/--maxmemory \S+/);
  });
});

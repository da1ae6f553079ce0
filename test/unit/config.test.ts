// Config: one schema over env and an optional file; env wins; every problem reported at once.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ConfigError,
  hostOf,
  loadConfig,
  redactUrl,
  secretsFromEnv,
  secretsOf,
} from '../../src/config.ts';
import { sessionDatabaseUrl } from '../../src/db/pool.ts';

describe('loadConfig', () => {
  it('has working defaults with an empty environment', () => {
    const c = loadConfig({ env: {}, cwd: '/' });
    expect(c).toMatchObject({ embedder: 'hash', chunkSize: 1000, chunkOverlap: 150, collection: 'default' });
    expect(c.maxFileBytes).toBe(100 * 1024 * 1024);
  });

  it('reports every invalid value at once, naming the variables', () => {
    let err: ConfigError | undefined;
    try {
      loadConfig({
        env: { SLUICE_CHUNK_SIZE: 'big', SLUICE_EMBEDDER: 'magic', REDIS_URL: 'not a url' },
        cwd: '/',
      });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.name).toBe('ConfigError');
    expect(err?.problems).toHaveLength(3);
    expect(err?.message).toMatch(/SLUICE_CHUNK_SIZE/);
    expect(err?.message).toMatch(/SLUICE_EMBEDDER/);
    expect(err?.message).toMatch(/REDIS_URL/);
  });

  it('rejects an overlap not smaller than the chunk size', () => {
    expect(() =>
      loadConfig({ env: { SLUICE_CHUNK_SIZE: '100', SLUICE_CHUNK_OVERLAP: '100' }, cwd: '/' }),
    ).toThrow(/SLUICE_CHUNK_OVERLAP/);
  });

  it('reads sluice.config.yaml and lets env win over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cfg-'));
    writeFileSync(join(dir, 'sluice.config.yaml'), 'chunkSize: 500\ncollection: docs\n');
    expect(loadConfig({ env: {}, cwd: dir })).toMatchObject({ chunkSize: 500, collection: 'docs' });
    expect(loadConfig({ env: { SLUICE_CHUNK_SIZE: '700' }, cwd: dir }).chunkSize).toBe(700);
  });

  it('names unknown keys and unreadable files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cfg-'));
    writeFileSync(join(dir, 'sluice.config.json'), '{"chunkSise": 5}');
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(/unknown setting "chunkSise"/);
    writeFileSync(join(dir, 'bad.json'), '{');
    expect(() => loadConfig({ env: {}, cwd: dir, file: 'bad.json' })).toThrow(/bad\.json/);
    expect(() => loadConfig({ env: {}, cwd: dir, file: 'none.yaml' })).toThrow(/does not exist/);
  });

  it('refuses collection names that could be SQL', () => {
    expect(() => loadConfig({ env: { SLUICE_COLLECTION: "x'; DROP TABLE y; --" }, cwd: '/' })).toThrow(
      /SLUICE_COLLECTION/,
    );
  });
});

describe('Postgres connection settings', () => {
  it('bounds the pool per process (SLUICE_PG_POOL_MAX, 3..100, default 10)', () => {
    expect(loadConfig({ env: {}, cwd: '/' }).pgPoolMax).toBe(10);
    expect(loadConfig({ env: { SLUICE_PG_POOL_MAX: '4' }, cwd: '/' }).pgPoolMax).toBe(4);
    expect(() => loadConfig({ env: { SLUICE_PG_POOL_MAX: '2' }, cwd: '/' })).toThrow(/SLUICE_PG_POOL_MAX/);
    expect(() => loadConfig({ env: { SLUICE_PG_POOL_MAX: '500' }, cwd: '/' })).toThrow(/SLUICE_PG_POOL_MAX/);
  });

  it('uses SLUICE_DIRECT_DATABASE_URL for session work when set, DATABASE_URL otherwise', () => {
    const pooled = 'postgresql://app@pooler:6432/db';
    const direct = 'postgresql://app:s3cret-direct@db:5432/db';
    expect(sessionDatabaseUrl(loadConfig({ env: { DATABASE_URL: pooled }, cwd: '/' }))).toBe(pooled);
    const c = loadConfig({ env: { DATABASE_URL: pooled, SLUICE_DIRECT_DATABASE_URL: direct }, cwd: '/' });
    expect(sessionDatabaseUrl(c)).toBe(direct);
    expect(() => loadConfig({ env: { SLUICE_DIRECT_DATABASE_URL: 'not a url' }, cwd: '/' })).toThrow(
      /SLUICE_DIRECT_DATABASE_URL/,
    );
    // Its password is a secret like DATABASE_URL's: redacted from logs and errors.
    expect(secretsOf(c)).toContain('s3cret-direct');
    expect(secretsFromEnv({ SLUICE_DIRECT_DATABASE_URL: direct })).toContain('s3cret-direct');
  });
});

describe('URL helpers never reveal passwords', () => {
  it('redacts passwords and secret query parameters', () => {
    expect(redactUrl('postgresql://u:hunter2@db:5432/x?sslpassword=abc')).toBe(
      'postgresql://u:***@db:5432/x?sslpassword=***',
    );
    expect(hostOf('redis://:pw@cache:6380')).toBe('cache:6380');
    expect(hostOf('redis://cache')).toBe('cache:6379');
  });
});

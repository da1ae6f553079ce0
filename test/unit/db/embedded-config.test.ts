// With DATABASE_URL unset the database is the embedded one under SLUICE_HOME
// (default ./.sluice, resolved against the cwd), named by its path in messages.
import { describe, expect, it } from 'vitest';
import { hostOf, loadConfig, redactUrl } from '../../../src/config.ts';
import { listenStatements } from '../../../src/db/embedded/listen.ts';
import { embeddedDataDir, embeddedUrl, isEmbeddedUrl } from '../../../src/db/embedded/url.ts';

const load = (env: Record<string, string>, cwd = '/srv/proj') => loadConfig({ env, cwd });

describe('embedded database URL', () => {
  it('defaults to <cwd>/.sluice/pgdata when DATABASE_URL is unset', () => {
    const c = load({});
    expect(c.sluiceHome).toBe('/srv/proj/.sluice');
    expect(c.databaseUrl).toBe('pglite:///srv/proj/.sluice/pgdata');
    expect(isEmbeddedUrl(c.databaseUrl)).toBe(true);
  });

  it('follows SLUICE_HOME, relative to the cwd or absolute', () => {
    expect(load({ SLUICE_HOME: 'state' }).databaseUrl).toBe('pglite:///srv/proj/state/pgdata');
    expect(load({ SLUICE_HOME: '/var/lib/sluice' }).databaseUrl).toBe('pglite:///var/lib/sluice/pgdata');
  });

  it('leaves a server DATABASE_URL as it is', () => {
    const url = 'postgresql://u@db.example:5433/x';
    expect(load({ DATABASE_URL: url }).databaseUrl).toBe(url);
    expect(isEmbeddedUrl(url)).toBe(false);
  });

  it('round-trips paths with spaces and names the path in messages', () => {
    const url = embeddedUrl('/tmp/my docs/.sluice/pgdata');
    expect(embeddedDataDir(url)).toBe('/tmp/my docs/.sluice/pgdata');
    expect(hostOf(url)).toBe('embedded database at /tmp/my docs/.sluice/pgdata');
    expect(redactUrl(url)).toBe('embedded database at /tmp/my docs/.sluice/pgdata');
  });
});

describe('LISTEN tracking on the shared session', () => {
  it('finds LISTEN and UNLISTEN statements past comments, folding unquoted names', () => {
    expect(listenStatements('-- Subscribe\n-- to jobs\nLISTEN bullmq_jobs;\n')).toEqual([
      { listen: true, channel: 'bullmq_jobs' },
    ]);
    expect(listenStatements('LISTEN Foo; UNLISTEN "Bar"; UNLISTEN *')).toEqual([
      { listen: true, channel: 'foo' },
      { listen: false, channel: 'Bar' },
      { listen: false, channel: '*' },
    ]);
    expect(listenStatements("SELECT 'LISTEN x'")).toEqual([]);
  });
});

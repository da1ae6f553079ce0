// needs a Redis server: one case runs the embedded database with the queue on Redis
// Zero setup (issue 9): with DATABASE_URL unset, `sluice run` in an empty
// directory keeps its database under ./.sluice (PGlite), migrates it itself,
// processes md, html, pdf and docx to done, and `sluice search` from the same
// directory finds a known phrase. The queue is Redis here (REDIS_URL set).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { copyFourFormats, FOUR_FORMATS } from '../helpers/corpus.ts';
import { TEST_REDIS_URL, uniquePrefix } from '../helpers/db.ts';
import { type TempHome, tempHome } from '../helpers/embedded.ts';

const FILES = FOUR_FORMATS;

let cwd: TempHome;
let env: Record<string, string>;

beforeAll(async () => {
  cwd = await tempHome('run');
  copyFourFormats(join(cwd.home, 'docs'));
  env = {
    REDIS_URL: TEST_REDIS_URL,
    SLUICE_QUEUE_PREFIX: uniquePrefix('embedded-run'),
    SLUICE_LOG_LEVEL: 'warn',
  };
});

afterAll(async () => {
  await cwd?.remove();
});

describe('sluice run with no DATABASE_URL', () => {
  it('stores everything under ./.sluice and ends with every document done', async () => {
    const started = Date.now();
    const res = await runCli(['run', 'docs', '--json'], { cwd: cwd.home, env, timeoutMs: 170_000 });
    const seconds = (Date.now() - started) / 1000;
    expect(res.stderr).not.toMatch(/error/i);
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout) as { done?: number; failed?: unknown[] } & Record<string, unknown>;
    expect(JSON.stringify(summary)).toContain('"done"');
    expect(existsSync(join(cwd.home, '.sluice', 'pgdata', 'PG_VERSION'))).toBe(true);
    expect(existsSync(join(cwd.home, '.sluice', 'lock'))).toBe(false); // released at exit
    console.log(`embedded run: ${FILES.length} documents in ${seconds.toFixed(1)} s (startup included)`);
  });

  it('status from the same directory shows all four done', async () => {
    const res = await runCli(['status', '--json'], { cwd: cwd.home, env });
    expect(res.code).toBe(0);
    const status = JSON.parse(res.stdout) as { documents: Record<string, Record<string, number>> };
    expect(status.documents.default?.done).toBe(FILES.length);
  });

  it('search from the same directory finds a known phrase', async () => {
    const res = await runCli(['search', 'Big Blue multinational technology company Armonk', '--json'], {
      cwd: cwd.home,
      env,
    });
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { results: { uri: string; text: string }[] };
    expect(out.results[0]?.uri).toMatch(/docling-wiki\.md$/);
    expect(out.results[0]?.text).toContain('Armonk');
  });
});

// The marker lines that keep a test file out of a run without the server it needs.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesNotRun, needsOf } from '../helpers/needs.ts';

describe('test files that need a real server', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'sluice-needs-'));
    await mkdir(join(root, 'it'));
    await writeFile(
      join(root, 'it/a.test.ts'),
      '// needs a Postgres server: kills sessions\n// needs a Redis server: restarts it\nimport x;\n',
    );
    await writeFile(join(root, 'it/b.test.ts'), '// needs a Redis server: restarts it\n');
    await writeFile(join(root, 'it/c.test.ts'), '// runs anywhere\n');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('reads every marker line of a file', () => {
    expect(
      needsOf('// needs a Postgres server: kills sessions\n// needs a Redis server: restarts it\n'),
    ).toEqual([
      { server: 'postgres', why: 'kills sessions' },
      { server: 'redis', why: 'restarts it' },
    ]);
    expect(needsOf('const s = "// needs a Redis server: not a marker";\n')).toEqual([]);
  });

  it('leaves out exactly the files whose server is missing, one line each naming the file and why', () => {
    const notRun = filesNotRun(root, ['it'], { redis: '127.0.0.1:1 did not answer' });
    expect(notRun.map((n) => n.file)).toEqual(['it/a.test.ts', 'it/b.test.ts']);
    expect(notRun[1]?.line).toBe(
      'not run: it/b.test.ts needs a Redis server (restarts it); 127.0.0.1:1 did not answer',
    );
    expect(filesNotRun(root, ['it'], {})).toEqual([]);
    expect(filesNotRun(root, ['it'], { postgres: 'gone' }).map((n) => n.file)).toEqual(['it/a.test.ts']);
  });
});

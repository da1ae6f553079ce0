// Pure source rules: which names are ignored, how upload names are made safe,
// s3:// URIs, the token comparison, and the stability rule on a real file.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { globList, ignoreRules } from '../../../src/sources/ignore.ts';
import { parseS3Uri, s3VersionHash } from '../../../src/sources/s3.ts';
import { eventObjects } from '../../../src/sources/s3-events.ts';
import { createStabilityTracker } from '../../../src/sources/stability.ts';
import { tokenMatches } from '../../../src/sources/token-auth.ts';
import { sanitizeFileName } from '../../../src/sources/upload-store.ts';
import { isLoopback } from '../../../src/tokens.ts';

describe('ignore rules', () => {
  const rules = ignoreRules();
  it.each([
    'notes.txt.swp',
    '.notes.txt.swo',
    'report.docx~',
    '~$report.docx',
    'movie.mkv.part',
    'file.pdf.crdownload',
    'x.tmp',
    '.hidden.md',
    'sub/.git/config',
    '#autosave#',
    '.#lock',
  ])('ignores %s', (rel) => expect(rules.ignoresFile(rel)).toBe(true));

  it.each(['a.md', 'sub/dir/report.pdf', 'tmp/notes.txt', 'partial.txt', 'name with spaces.txt'])(
    'keeps %s',
    (rel) => expect(rules.ignoresFile(rel)).toBe(false),
  );

  it('applies include and exclude globs relative to the root', () => {
    const r = ignoreRules({ include: globList('**/*.md, *.txt'), exclude: globList('drafts/**') });
    expect(r.ignoresFile('a.md')).toBe(false);
    expect(r.ignoresFile('deep/b.md')).toBe(false);
    expect(r.ignoresFile('c.txt')).toBe(false);
    expect(r.ignoresFile('deep/c.pdf')).toBe(true);
    expect(r.ignoresFile('drafts/d.md')).toBe(true);
    expect(r.ignoresDir('drafts')).toBe(true);
    expect(r.ignoresDir('deep')).toBe(false);
    expect(r.ignoresDir('.cache')).toBe(true);
  });
});

describe('upload file names', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\boot.ini', 'boot.ini'],
    ['..', 'upload'],
    ['.bashrc', 'bashrc'],
    ['a\u0000b\u0007c\n.txt', 'abc.txt'],
    ['right\u202eto-left.txt', 'rightto-left.txt'],
    ['a:b*c?.txt', 'a_b_c_.txt'],
    ['Ünïcødé 文書.md', 'Ünïcødé 文書.md'],
    ['', 'upload'],
  ])('%j → %j', (input, expected) => expect(sanitizeFileName(input)).toBe(expected));

  it('bounds a long name to 200 bytes', () => {
    expect(Buffer.byteLength(sanitizeFileName('文'.repeat(500)))).toBeLessThanOrEqual(200);
  });
});

describe('s3 URIs', () => {
  it('takes the key verbatim', () => {
    expect(parseS3Uri('s3://my-bucket/a b/c+d é.txt')).toEqual({ bucket: 'my-bucket', key: 'a b/c+d é.txt' });
    expect(parseS3Uri('s3://my-bucket')).toEqual({ bucket: 'my-bucket', key: '' });
  });
  it('rejects bad bucket names', () => {
    expect(() => parseS3Uri('s3://Bad_Bucket/x')).toThrow(/not a valid bucket name/);
    expect(() => parseS3Uri('s3:///x')).toThrow(/not a valid bucket name/);
  });
  it('names a version by ETag and size, with or without quotes', () => {
    expect(s3VersionHash('"abc"', 3)).toBe(s3VersionHash('abc', 3));
    expect(s3VersionHash('abc', 3)).not.toBe(s3VersionHash('abc', 4));
    expect(s3VersionHash('abc', 3)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('token', () => {
  it('accepts exactly the bearer token', () => {
    expect(tokenMatches('Bearer secret-token', 'secret-token')).toBe(true);
    expect(tokenMatches('bearer secret-token', 'secret-token')).toBe(true);
    expect(tokenMatches('Bearer secret-token2', 'secret-token')).toBe(false);
    expect(tokenMatches('secret-token', 'secret-token')).toBe(false);
    expect(tokenMatches(undefined, 'secret-token')).toBe(false);
  });
  it('knows loopback addresses', () => {
    expect(['127.0.0.1', 'localhost', '::1', '127.1.2.3'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1'].some(isLoopback)).toBe(false);
  });
});

describe('stability rule', () => {
  it('hands on a file only after it stopped changing, at its final size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-stable-'));
    try {
      const path = join(dir, 'growing.txt');
      writeFileSync(path, 'start\n');
      const stable: number[] = [];
      let resolveStable: () => void = () => {};
      const settled = new Promise<void>((r) => {
        resolveStable = r;
      });
      const tracker = createStabilityTracker({
        stableMs: 1000,
        onStable: (_p, v) => {
          stable.push(v.size);
          resolveStable();
        },
      });
      tracker.track(path);
      // A writer appending every 100 ms: well inside the 1 s quiet period (room for a loaded machine).
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 100));
        appendFileSync(path, 'more data\n');
        expect(stable).toEqual([]);
      }
      await settled;
      expect(stable).toEqual([6 + 6 * 10]);
      await tracker.idle();
      tracker.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('S3 event notifications', () => {
  const record = (key: string) => ({ s3: { bucket: { name: 'b' }, object: { key } } });
  it('reads bucket and decoded key from S3 events, direct or wrapped by SNS', () => {
    const body = JSON.stringify({ Records: [record('a/new+file%C3%A9.txt'), record('x%2By.txt')] });
    expect(eventObjects(body)).toEqual([
      { bucket: 'b', key: 'a/new fileé.txt' },
      { bucket: 'b', key: 'x+y.txt' },
    ]);
    expect(eventObjects(JSON.stringify({ Type: 'Notification', Message: body }))).toHaveLength(2);
  });
  it('ignores anything else', () => {
    expect(eventObjects('not json')).toEqual([]);
    expect(eventObjects(JSON.stringify({ Event: 's3:TestEvent' }))).toEqual([]);
    expect(eventObjects(JSON.stringify({ Records: [{ s3: {} }] }))).toEqual([]);
  });
});

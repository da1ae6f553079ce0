// The guarded reader of local source files, on real files, FIFOs, devices and
// links: what it reads, what it refuses and with which permanent code.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetryable } from '../../../src/errors.ts';
import { hashRegularFile, readRegularFile, withReadLimits } from '../../../src/sources/read-file.ts';

const LIMITS = { maxBytes: 1 << 20, timeoutMs: 60_000 };
let dir: string;
let outside: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-read-'));
  outside = mkdtempSync(join(tmpdir(), 'sluice-read-outside-'));
  writeFileSync(join(dir, 'plain.txt'), 'plain text\n');
  writeFileSync(join(outside, 'secret.txt'), 'the secret\n');
  execFileSync('mkfifo', [join(dir, 'pipe.txt')]);
  symlinkSync('/dev/zero', join(dir, 'zero.txt'));
  symlinkSync(join(outside, 'secret.txt'), join(dir, 'link.txt'));
  symlinkSync(outside, join(dir, 'linked-folder'));
  mkdirSync(join(dir, 'folder.txt'));
  writeFileSync(join(dir, 'big.txt'), 'x'.repeat(2000));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const err = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code?: string; message?: string } | undefined;
  if (err?.code && !isRetryable(err)) return err.code;
  return `resolved or retryable: ${err?.code} ${err?.message}`;
}

describe('readRegularFile', () => {
  it('reads a regular file', async () => {
    const bytes = await readRegularFile(join(dir, 'plain.txt'), LIMITS);
    expect(Buffer.from(bytes).toString()).toBe('plain text\n');
    expect(bytes.byteOffset).toBe(0); // transferable to an extraction thread
  });

  it.each([
    ['a FIFO with no writer (would block forever)', 'pipe.txt'],
    ['a symlink to /dev/zero (endless)', 'zero.txt'],
    ['a symlink to a file outside the folder', 'link.txt'],
    ['a file reached through a symlinked parent folder', 'linked-folder/secret.txt'],
    ['a folder', 'folder.txt'],
  ])('refuses %s: NOT_A_FILE, permanent', async (_what, name) => {
    expect(await codeOf(readRegularFile(join(dir, name), LIMITS))).toBe('NOT_A_FILE');
    expect(await codeOf(hashRegularFile(join(dir, name), LIMITS))).toBe('NOT_A_FILE');
  });

  it('a missing file or a parent that became a file: SOURCE_MISSING', async () => {
    expect(await codeOf(readRegularFile(join(dir, 'nope.txt'), LIMITS))).toBe('SOURCE_MISSING');
    expect(await codeOf(readRegularFile(join(dir, 'plain.txt', 'x.txt'), LIMITS))).toBe('SOURCE_MISSING');
  });

  it('a file over the limit by its size: TOO_LARGE', async () => {
    expect(await codeOf(readRegularFile(join(dir, 'big.txt'), { ...LIMITS, maxBytes: 1000 }))).toBe(
      'TOO_LARGE',
    );
  });

  it('counts the limit in bytes read, not only by stat: a file whose size says 0 but which has content', async () => {
    // /proc files are regular files of size 0 that yield bytes when read.
    const proc = `/proc/${process.pid}/status`;
    const all = await readRegularFile(proc, LIMITS);
    expect(all.byteLength).toBeGreaterThan(100);
    expect(await codeOf(readRegularFile(proc, { ...LIMITS, maxBytes: 50 }))).toBe('TOO_LARGE');
  });

  it('permission denied is PERMISSION_DENIED, permanent (as an unprivileged user)', () => {
    const locked = join(dir, 'locked.txt');
    writeFileSync(locked, 'locked\n');
    chmodSync(locked, 0o000);
    chmodSync(dir, 0o755);
    const script = `
      const { readRegularFile } = await import(${JSON.stringify(new URL('../../../src/sources/read-file.ts', import.meta.url).href)});
      const err = await readRegularFile(${JSON.stringify(locked)}, { maxBytes: 100, timeoutMs: 10000 }).catch((e) => e);
      process.stdout.write(JSON.stringify({ code: err.code, retryable: err.retryable }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      uid: 65534,
      gid: 65534,
      cwd: '/',
    });
    expect(JSON.parse(out.toString())).toEqual({ code: 'PERMISSION_DENIED', retryable: false });
  });

  it('hashes without reading the whole file at once, and the hash matches the bytes', async () => {
    const expected = createHash('sha256').update('x'.repeat(2000)).digest('hex');
    expect(await hashRegularFile(join(dir, 'big.txt'), LIMITS)).toBe(expected);
  });

  it('an aborted signal stops the read with its reason', async () => {
    const ac = new AbortController();
    ac.abort(new Error('shutting down'));
    await expect(readRegularFile(join(dir, 'plain.txt'), { ...LIMITS, signal: ac.signal })).rejects.toThrow(
      'shutting down',
    );
  });
});

describe('withReadLimits', () => {
  it('a read that never finishes fails TIMEOUT, permanent, naming the setting', async () => {
    const stuck = withReadLimits(
      '/mnt/hung/file.txt',
      { ...LIMITS, timeoutMs: 100 },
      () => new Promise(() => {}),
    );
    const err = (await stuck.catch((e: unknown) => e)) as { code: string; message: string };
    expect(err.code).toBe('TIMEOUT');
    expect(isRetryable(err)).toBe(false);
    expect(err.message).toMatch(/\/mnt\/hung\/file\.txt.*SLUICE_READ_TIMEOUT_MS/);
  });

  it('an abort while a read is stuck ends it at once with the abort reason', async () => {
    const ac = new AbortController();
    const stuck = withReadLimits(
      '/mnt/hung/file.txt',
      { ...LIMITS, signal: ac.signal },
      () => new Promise(() => {}),
    );
    ac.abort(new Error('worker closing'));
    await expect(stuck).rejects.toThrow('worker closing');
  });
});

// zip-guard: central-directory checks on archives built in the test.
import { describe, expect, it } from 'vitest';
import { escapesArchive, inspectZip, readCentralDirectory } from '../../../src/extractors/zip-guard.ts';
import { writeZip } from '../../helpers/make-docx.ts';

const LIMITS = { maxDecompressedBytes: 10 * 1024 * 1024, maxCompressionRatio: 100 };
const codeOf = (f: () => unknown): unknown => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('zip-guard', () => {
  it('lists entries with declared sizes', () => {
    const zip = writeZip([
      { name: 'a.txt', data: Buffer.from('hello') },
      { name: 'dir/b.txt', data: Buffer.from('world!') },
    ]);
    expect(readCentralDirectory(zip).map((e) => [e.name, e.uncompressedSize])).toEqual([
      ['a.txt', 5],
      ['dir/b.txt', 6],
    ]);
  });
  it('flags names that escape the archive', () => {
    for (const bad of [
      '../x',
      'a/../../x',
      '/etc/passwd',
      '\\\\server\\x',
      'C:\\x',
      'a\\..\\..\\x',
      'a\0b',
    ]) {
      expect(escapesArchive(bad)).toBe(true);
    }
    for (const ok of ['word/document.xml', '[Content_Types].xml', 'a..b/c', 'x/.../y'])
      expect(escapesArchive(ok)).toBe(false);
  });
  it('refuses a traversal entry with CORRUPT_FILE', () => {
    const zip = writeZip([{ name: '../evil', data: Buffer.from('x') }]);
    expect(codeOf(() => inspectZip(zip, LIMITS))).toBe('CORRUPT_FILE');
  });
  it('refuses an over-compressed entry with TOO_LARGE', () => {
    const zip = writeZip([{ name: 'bomb.xml', data: new Uint8Array(5 * 1024 * 1024) }]);
    expect(codeOf(() => inspectZip(zip, LIMITS))).toBe('TOO_LARGE');
  });
  it('refuses a declared total above the limit with TOO_LARGE, even when the data is tiny', () => {
    const zip = writeZip([{ name: 'x', data: Buffer.from('tiny'), declaredSize: 0xfffffff0 }]);
    expect(codeOf(() => inspectZip(zip, LIMITS))).toBe('TOO_LARGE');
  });
  it('ignores the ratio of small entries (repetitive styles.xml is normal)', () => {
    const zip = writeZip([{ name: 'styles.xml', data: Buffer.from(' '.repeat(30_000)) }]);
    expect(codeOf(() => inspectZip(zip, LIMITS))).toBe('ok');
  });
  it('fails a broken or missing central directory with CORRUPT_FILE', () => {
    const zip = writeZip([{ name: 'a.txt', data: Buffer.from('hello') }]);
    expect(codeOf(() => inspectZip(zip.slice(0, zip.length - 30), LIMITS))).toBe('CORRUPT_FILE');
    expect(codeOf(() => inspectZip(new Uint8Array(100), LIMITS))).toBe('CORRUPT_FILE');
    const lying = Buffer.from(zip);
    lying.writeUInt32LE(0x7fffffff, lying.length - 6); // directory offset beyond the end
    expect(codeOf(() => inspectZip(lying, LIMITS))).toBe('CORRUPT_FILE');
  });
  it('refuses archives declaring too many entries with TOO_LARGE', () => {
    const zip = writeZip(Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, data: Buffer.from('x') })));
    expect(codeOf(() => inspectZip(zip, { ...LIMITS, maxEntries: 10 }))).toBe('TOO_LARGE');
  });
});

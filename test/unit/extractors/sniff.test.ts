import { describe, expect, it } from 'vitest';
import { MIME, sniffType } from '../../../src/extractors/sniff.ts';
import { garbageBytes } from './contract.ts';
import { fixture } from './fixtures.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('sniffType', () => {
  it.each([
    ['html/deb-pkg-basics.en.html', MIME.html],
    ['html/tika-testBrokenHTMLContainingRFC822.html', MIME.html],
    ['html/tika-test_ignore_IBM420.html', MIME.html],
    ['html/tika-testHTMLNoisyMetaEncoding_1.html', MIME.html],
    ['md/docling-wiki.md', MIME.markdown],
    ['md/uns-umlauts-non-utf8.md', MIME.markdown],
    ['txt/tika-russian.cp866.txt', MIME.text],
    ['txt/uns-fake-text-utf-16-be.txt', MIME.text],
    ['txt/uns-UDHR_first_article_all.txt', MIME.text],
    ['txt/uns-empty.txt', MIME.text],
  ])('%s → %s', async (path, mime) => {
    expect(await sniffType(fixture(path), path.split('/').pop())).toBe(mime);
  });

  it('uses magic bytes before the name', async () => {
    expect(await sniffType(utf8('%PDF-1.7\n%âãÏÓ\n1 0 obj\n'), 'notes.txt')).toBe(MIME.pdf);
    const ole = new Uint8Array(2048);
    ole.set([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
    expect(await sniffType(ole, 'a.docx')).toBe(MIME.doc);
    const png = new Uint8Array([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
    ]);
    expect(await sniffType(png, 'a.md')).toBe('image/png');
  });

  it('calls HTML named .pdf HTML', async () => {
    expect(await sniffType(fixture('html/deb-datatype-datetime.html'), 'report.pdf')).toBe(MIME.html);
    expect(await sniffType(utf8('\uFEFF  \n<!DOCTYPE HTML><p>x'), 'x.bin')).toBe(MIME.html);
  });

  it('calls binary garbage named .md octet-stream', async () => {
    expect(await sniffType(garbageBytes(100_000), 'notes.md')).toBe(MIME.octet);
  });

  it('uses the extension only as a tie-breaker for text', async () => {
    const plain = utf8('Just a few words.\nAnother line.\n');
    expect(await sniffType(plain, 'a.md')).toBe(MIME.markdown);
    expect(await sniffType(plain, 'a.txt')).toBe(MIME.text);
    expect(await sniffType(plain)).toBe(MIME.text);
    const md = utf8('# Title\n\nSome [link](http://x.y).\n\n## Part\n\ntext\n');
    expect(await sniffType(md)).toBe(MIME.markdown);
    expect(await sniffType(utf8('# comment in a config file\nkey = value\n'), 'a.txt')).toBe(MIME.text);
  });

  it('sniffs only the head of large text', async () => {
    const big = new Uint8Array(20 * 1024 * 1024).fill(0x61);
    const t0 = performance.now();
    expect(await sniffType(big)).toBe(MIME.text);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

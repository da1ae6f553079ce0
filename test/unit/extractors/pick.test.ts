// pickExtractor: by sniffed type; formats sluice recognises but does not read get a hint.
import { describe, expect, it } from 'vitest';
import { pickExtractor } from '../../../src/extractors/index.ts';
import { MIME, sniffType } from '../../../src/extractors/sniff.ts';

describe('pickExtractor', () => {
  it('picks by content type', () => {
    expect(pickExtractor(MIME.pdf).name).toMatch(/pdf/);
    expect(pickExtractor(MIME.markdown).name).toMatch(/markdown/);
  });

  it('refuses a legacy .doc with a hint to save it as .docx', async () => {
    const ole = new Uint8Array(4096);
    ole.set([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
    const mime = await sniffType(ole, 'report.doc');
    expect(mime).toBe(MIME.doc);
    expect(() => pickExtractor(mime)).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_TYPE', message: expect.stringContaining('.docx') }),
    );
  });

  it('refuses unknown binary without a hint', () => {
    expect(() => pickExtractor(MIME.octet)).toThrow(
      /no extractor for content type application\/octet-stream$/,
    );
  });
});

// OCR plumbing that needs no tesseract run: pixels to PNM, the install check, and
// the NO_TEXT hint when OCR is off (the OCR run itself: test/integration/ocr.test.ts).
import { describe, expect, it } from 'vitest';
import { pdfExtractor } from '../../../src/extractors/pdf.ts';
import { checkOcrInstalled, toPnm } from '../../../src/extractors/pdf-ocr.ts';
import { DEFAULT_LIMITS } from '../../../src/extractors/types.ts';
import { fixture } from './fixtures.ts';

describe('toPnm', () => {
  it('writes RGB as PPM and drops the alpha of RGBA', () => {
    const rgb = toPnm({ width: 2, height: 1, kind: 2, data: new Uint8Array([1, 2, 3, 4, 5, 6]) });
    expect(rgb?.toString('latin1')).toBe('P6\n2 1\n255\n\x01\x02\x03\x04\x05\x06');
    const rgba = toPnm({ width: 1, height: 1, kind: 3, data: new Uint8Array([9, 8, 7, 255]) });
    expect(rgba?.toString('latin1')).toBe('P6\n1 1\n255\n\x09\x08\x07');
  });

  it('writes 1-bit images as PBM with black as 1', () => {
    const pbm = toPnm({ width: 8, height: 1, kind: 1, data: new Uint8Array([0b11110000]) });
    expect([...pbm!.subarray(pbm!.length - 1)]).toEqual([0b00001111]);
    expect(pbm!.subarray(0, 7).toString()).toBe('P4\n8 1\n');
  });

  it('refuses images without pixels or over the pixel cap', () => {
    expect(toPnm({ width: 10, height: 10, kind: 2 })).toBeUndefined();
    expect(toPnm({ width: 100_000, height: 100_000, kind: 2, data: new Uint8Array(3) })).toBeUndefined();
  });
});

describe('checkOcrInstalled', () => {
  it('passes for the installed English data and names what to install otherwise', () => {
    expect(() => checkOcrInstalled(['eng'])).not.toThrow();
    expect(() => checkOcrInstalled(['eng', 'xx_missing'])).toThrow(
      expect.objectContaining({
        code: 'CONFIG_ERROR',
        message: expect.stringMatching(/npm install @tesseract\.js-data\/xx_missing.*SLUICE_OCR=off/),
      }),
    );
  });
});

describe('PDF without a text layer', () => {
  it('fails NO_TEXT with a hint naming SLUICE_OCR when OCR is off', async () => {
    await expect(
      pdfExtractor.extract({
        bytes: fixture('pdf/tika-testOCR.pdf'),
        mime: 'application/pdf',
        limits: DEFAULT_LIMITS,
      }),
    ).rejects.toMatchObject({ code: 'NO_TEXT', message: expect.stringMatching(/SLUICE_OCR=auto/) });
  });
});

// pickExtractor: by sniffed type; formats sluice recognises but does not read get a hint.
import { describe, expect, it } from 'vitest';
import { pickExtractor } from '../../../src/extractors/index.ts';
import { MIME, sniffType } from '../../../src/extractors/sniff.ts';
import { DEFAULT_LIMITS } from '../../../src/extractors/types.ts';
import { fixture } from './fixtures.ts';

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

  it('names the format and says what to do for every unsupported type', () => {
    expect(() => pickExtractor(MIME.octet)).toThrow(
      /^no extractor for content type application\/octet-stream \(unrecognised binary data\): .*convert the file/,
    );
    expect(() => pickExtractor('image/png')).toThrow(
      /\(PNG file\): sluice reads PDF, DOCX, PPTX, XLSX.*convert the file/,
    );
  });

  it.each([
    ['WordDocument', 'report.bin', MIME.doc, '.docx'],
    ['Workbook', 'budget.bin', MIME.xls, '.xlsx'],
    ['PowerPoint Document', 'talk.bin', MIME.ppt, '.pptx'],
  ])(
    'refuses a legacy OLE file with a %s stream, saying to save it as %s',
    async (stream, name, mime, modern) => {
      const ole = new Uint8Array(4096);
      ole.set([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
      ole.set(Buffer.from(stream, 'utf16le'), 1024);
      expect(await sniffType(ole, name)).toBe(mime);
      expect(() => pickExtractor(mime)).toThrow(
        expect.objectContaining({
          code: 'UNSUPPORTED_TYPE',
          message: expect.stringContaining(`save the file as ${modern}`),
        }),
      );
    },
  );

  it.each([
    ['deck.pptx', MIME.pptx, /^PPTX is password-protected/],
    ['book.xlsx', MIME.xlsx, /^XLSX is password-protected/],
    ['memo.docx', MIME.docx, /^DOCX is password-protected/],
    ['mystery.bin', MIME.encryptedOffice, /^Office document \(DOCX, XLSX or PPTX\) is password-protected/],
  ])('reports an encrypted %s as ENCRYPTED under its own format', async (name, mime, message) => {
    const ole = new Uint8Array(4096);
    ole.set([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
    ole.set(Buffer.from('EncryptedPackage', 'utf16le'), 1024);
    expect(await sniffType(ole, name)).toBe(mime);
    const attempt = async () => pickExtractor(mime).extract({ bytes: ole, mime, limits: DEFAULT_LIMITS });
    await expect(attempt()).rejects.toMatchObject({
      code: 'ENCRYPTED',
      message: expect.stringMatching(message),
    });
  });

  it.each([
    ['pptx/docling-powerpoint_sample.pptx', MIME.pptx],
    ['xlsx/uns-vodafone.xlsx', MIME.xlsx],
    ['epub/uns-eng_spa_mult.epub', MIME.epub],
    ['odt/uns-simple.odt', MIME.odt],
    ['rtf/uns-fake-doc.rtf', MIME.rtf],
    ['csv/docling-csv-comma.csv', MIME.csv],
  ])('sniffs %s by its bytes and picks its extractor', async (path, mime) => {
    const bytes = fixture(path);
    expect(
      await sniffType(bytes, 'renamed.dat'.replace('.dat', path.endsWith('.csv') ? '.csv' : '.dat')),
    ).toBe(mime);
    expect(pickExtractor(mime).mimeTypes).toContain(mime);
  });
});

// Fails when an extractor file in src/extractors/ is not registered in EXTRACTORS.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXTRACTORS, pickExtractor } from '../../../src/extractors/index.ts';
import { MIME } from '../../../src/extractors/sniff.ts';

/** Modules in src/extractors/ that are not extractor plugins. */
const SUPPORT_FILES = new Set([
  'index.ts',
  'types.ts',
  'sniff.ts',
  'charset.ts',
  'text-input.ts',
  'zip-guard.ts',
  'pdf-layout.ts',
  'pdf-outline.ts',
  'zip-read.ts',
  'xml.ts',
  'ooxml.ts',
  'drawingml.ts',
  'table-sections.ts',
  'xlsx-cells.ts',
  'odf.ts',
  'ebcdic.ts',
  'mail-attachments.ts',
  'docx-extras.ts',
  'omml.ts',
  'zip-write.ts',
  'pdf-ocr.ts',
  'xlsx-charts.ts',
  'html-tables.ts',
]);

const DIR = fileURLToPath(new URL('../../../src/extractors/', import.meta.url));

describe('extractor registry', () => {
  it('registers every plugin file', async () => {
    const plugins = readdirSync(DIR).filter((f) => f.endsWith('.ts') && !SUPPORT_FILES.has(f));
    expect(plugins.length).toBeGreaterThan(0);
    for (const file of plugins) {
      const mod = (await import(`${DIR}${file}`)) as Record<string, unknown>;
      const exported = Object.values(mod).filter((v) => EXTRACTORS.includes(v as never));
      expect(exported, `${file} exports no extractor listed in EXTRACTORS`).not.toHaveLength(0);
    }
  });

  it('has unique names and no content type claimed twice', () => {
    const names = EXTRACTORS.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    const mimes = EXTRACTORS.flatMap((e) => e.mimeTypes);
    expect(new Set(mimes).size).toBe(mimes.length);
  });

  it('picks by content type', () => {
    expect(pickExtractor(MIME.html).name).toBe('html');
    expect(pickExtractor(MIME.markdown).name).toBe('markdown');
    expect(pickExtractor(MIME.text).name).toBe('text');
    expect(() => pickExtractor(MIME.octet)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_TYPE' }));
  });
});

// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// Opt-in OCR (issue 13): with SLUICE_OCR=auto the scanned PDF fixture ends done, its
// words searchable and its chunks marked ocr: true, next to a born-digital PDF that
// is not OCR'd; with OCR off (the default) it ends NO_TEXT with a hint naming SLUICE_OCR.
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { FIXTURES, scratchDir } from '../helpers/corpus.ts';
import { makeReportPdf } from '../helpers/make-pdf.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

let dir: ReturnType<typeof scratchDir>;

beforeAll(async () => {
  dir = scratchDir('ocr');
  cpSync(join(FIXTURES, 'pdf/tika-testOCR.pdf'), join(dir.dir, 'scanned.pdf'));
  writeFileSync(join(dir.dir, 'digital.pdf'), await makeReportPdf(3, 2));
});

afterAll(() => dir?.cleanup());

async function outcome(p: TestPipeline, name: string) {
  const [row] = await p.query<{
    id: number;
    status: string;
    error_code: string | null;
    error_message: string | null;
    metadata: Record<string, unknown>;
  }>('SELECT id, status, error_code, error_message, metadata FROM sluice.documents WHERE uri = $1', [
    join(dir.dir, name),
  ]);
  return row!;
}

describe('OCR for scanned PDF pages', () => {
  it("with SLUICE_OCR=auto the scanned page is read, searchable and marked ocr; text pages are not OCR'd", async () => {
    const p = await startPipeline({
      label: 'ocr',
      env: { SLUICE_OCR: 'auto', SLUICE_OCR_PAGE_TIMEOUT_MS: '90000' },
    });
    try {
      await p.ingestAndWait([dir.dir], { timeoutMs: 150_000 });
      const scanned = await outcome(p, 'scanned.pdf');
      expect(scanned.status, `${scanned.error_code} ${scanned.error_message}`).toBe('done');
      expect(scanned.metadata).toMatchObject({ ocrPages: [1], ocrFailedPages: [], ocrSkippedPages: [] });
      const chunks = await p.query<{ text: string; metadata: Record<string, unknown> }>(
        'SELECT text, metadata FROM sluice.chunks WHERE document_id = $1',
        [scanned.id],
      );
      expect(chunks.map((c) => c.text).join(' ')).toContain('Happy New Year 2003');
      for (const c of chunks) expect(c.metadata).toMatchObject({ ocr: true, page_start: 1 });
      const digital = await outcome(p, 'digital.pdf');
      expect(digital.status).toBe('done');
      expect(digital.metadata.ocrPages).toEqual([]);
      const digitalChunks = await p.query<{ metadata: Record<string, unknown> }>(
        'SELECT metadata FROM sluice.chunks WHERE document_id = $1',
        [digital.id],
      );
      for (const c of digitalChunks) expect(c.metadata.ocr).toBeUndefined();
      const r = await runCli(['search', 'Happy New Year 2003', '-k', '1', '--json'], { env: p.env });
      const { results } = JSON.parse(r.stdout) as {
        results: { uri: string; metadata: Record<string, unknown> }[];
      };
      expect(results[0]?.uri).toBe(join(dir.dir, 'scanned.pdf'));
      expect(results[0]?.metadata.ocr).toBe(true);
    } finally {
      await p.close();
    }
  }, 240_000);

  it('with OCR off (the default) the scanned PDF ends NO_TEXT with a hint naming SLUICE_OCR', async () => {
    const p = await startPipeline({ label: 'ocr-off' });
    try {
      await p.ingestAndWait([join(dir.dir, 'scanned.pdf')], { timeoutMs: 60_000 });
      const scanned = await outcome(p, 'scanned.pdf');
      expect(scanned.status).toBe('failed');
      expect(scanned.error_code).toBe('NO_TEXT');
      expect(scanned.error_message).toMatch(/SLUICE_OCR=auto/);
    } finally {
      await p.close();
    }
  }, 90_000);
});

// Issue 13, hostile files of the Office, OpenDocument, e-book, RTF and CSV formats
// through the real pipeline (stage workers, extraction threads with time and memory
// limits), beside normal files of the same formats. Each hostile file fails with its
// code, the neighbours finish with their structure in chunk metadata, and the workers
// take new work afterwards. Its own batch and time budget, so hostile.test.ts keeps its own.
import { cpSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, scratchDir } from '../helpers/corpus.ts';
import { writeZip } from '../helpers/make-docx.ts';
import { makeEpub, makeOdf, makePptx, makeXlsx } from '../helpers/make-office.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

/** Billion laughs: nine levels of ten-fold entity expansion. */
const LOL_DTD = `<!DOCTYPE lolz [<!ENTITY lol0 "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join('')}]>`;
const LOL_XML = (root: string): string => `<?xml version="1.0"?>${LOL_DTD}<${root}>&lol9;</${root}>`;

interface Case {
  name: string;
  write(path: string): void;
  /** A code means failed with that code; a string[] means done with text containing each. */
  expect: { code: string } | { text: string[] };
}

function fixture(rel: string): (path: string) => void {
  return (p) => cpSync(join(FIXTURES, rel), p);
}

const CASES: Case[] = [
  {
    name: 'entity-bomb.xlsx',
    write: (p) =>
      writeFileSync(p, makeXlsx([{ name: 'S', rows: [['a']] }], { 'xl/sharedStrings.xml': LOL_XML('sst') })),
    expect: { code: 'CORRUPT_FILE' },
  },
  {
    name: 'traversal.xlsx',
    write: (p) => writeFileSync(p, makeXlsx([{ name: 'S', rows: [['a']] }], { '../../evil.sh': 'rm -rf /' })),
    expect: { code: 'CORRUPT_FILE' },
  },
  {
    name: 'encrypted.xlsx',
    write: fixture('xlsx/uns-password_protected.xlsx'),
    expect: { code: 'ENCRYPTED' },
  },
  {
    name: 'legacy.xls',
    write: (p) => {
      const ole = Buffer.alloc(4096);
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(ole);
      Buffer.from('Workbook', 'utf16le').copy(ole, 1024);
      writeFileSync(p, ole);
    },
    expect: { code: 'UNSUPPORTED_TYPE' },
  },
  {
    name: 'zip-bomb.pptx',
    write: (p) =>
      writeFileSync(
        p,
        makePptx([{ title: 'x' }], { 'ppt/slides/slide1.xml': new Uint8Array(40 * 1024 * 1024) }),
      ),
    expect: { code: 'TOO_LARGE' },
  },
  {
    name: 'entity-bomb.pptx',
    write: (p) => writeFileSync(p, makePptx([{ title: 'x' }], { 'ppt/slides/slide1.xml': LOL_XML('p:sld') })),
    expect: { code: 'CORRUPT_FILE' },
  },
  {
    name: 'deep-nesting.pptx',
    write: (p) =>
      writeFileSync(
        p,
        makePptx(
          [{ title: 'x' }],
          {},
          {
            'ppt/slides/slide1.xml': `<p:sld xmlns:p="p"><p:cSld><p:spTree>${'<p:grpSp>'.repeat(50_000)}${'</p:grpSp>'.repeat(50_000)}</p:spTree></p:cSld></p:sld>`,
          },
        ),
      ),
    expect: { code: 'CORRUPT_FILE' },
  },
  {
    name: 'malformed.pptx',
    write: fixture('pptx/uns-fake-power-point-malformed.pptx'),
    expect: { text: ['Test Slide'] },
  },
  {
    name: 'entity-bomb.odt',
    write: (p) =>
      writeFileSync(
        p,
        makeOdf(
          'application/vnd.oasis.opendocument.text',
          '<office:text><text:p>&lol9;</text:p></office:text>',
          'x',
          LOL_DTD,
        ),
      ),
    expect: { code: 'CORRUPT_FILE' },
  },
  // A huge sheet: 10,000 repeated rows of 300 cells. (A 2-million-cell XLSX and a
  // 2-million-entry shared-string table are in test/unit/extractors/xlsx.test.ts: they
  // take seconds of CPU, which this batch's time budget cannot spare.)
  {
    name: 'repeated-rows.ods',
    write: (p) => {
      const cells = '<table:table-cell><text:p>x</text:p></table:table-cell>'.repeat(300);
      const body = `<office:spreadsheet><table:table table:name="Big">${`<table:table-row table:number-rows-repeated="10000">${cells}</table:table-row>`}</table:table></office:spreadsheet>`;
      writeFileSync(p, makeOdf('application/vnd.oasis.opendocument.spreadsheet', body));
    },
    expect: { code: 'TOO_LARGE' },
  },
  {
    name: 'entity-bomb.epub',
    write: (p) => writeFileSync(p, makeEpub([{ title: 'Lol', body: '<p>&lol9;</p>' }], undefined, LOL_DTD)),
    expect: { code: 'CORRUPT_FILE' },
  },
  {
    name: 'zip-bomb.epub',
    write: (p) =>
      writeFileSync(
        p,
        writeZip([
          { name: 'mimetype', data: Buffer.from('application/epub+zip') },
          { name: 'META-INF/container.xml', data: new Uint8Array(40 * 1024 * 1024) },
        ]),
      ),
    expect: { code: 'TOO_LARGE' },
  },
  {
    name: 'deep-groups.rtf',
    write: (p) => writeFileSync(p, `{\\rtf1 ${'{'.repeat(200_000)}x${'}'.repeat(200_000)}}`),
    expect: { code: 'CORRUPT_FILE' },
  },
  {
    name: 'unclosed-quote.csv',
    write: (p) => writeFileSync(p, `name,note\nA,"${'never closed '.repeat(100_000)}\n`),
    expect: { code: 'CORRUPT_FILE' },
  },
];

const NORMAL = [
  'pptx/uns-sample-presentation.pptx',
  'xlsx/uns-stanley-cups.xlsx',
  'epub/uns-eng_spa_mult.epub',
  'csv/docling-csv-comma.csv',
  'odt/uns-simple.odt',
  'rtf/uns-fake-doc.rtf',
];

let p: TestPipeline;
let dir: ReturnType<typeof scratchDir>;
let elapsedMs = 0;

interface Row {
  uri: string;
  status: string;
  error_code: string | null;
  error_message: string | null;
  text: string | null;
  chunks: string;
}

async function rows(): Promise<Map<string, Row>> {
  const list = await p.query<Row>(
    `SELECT d.uri, d.status, d.error_code, d.error_message,
            string_agg(c.text, ' ' ORDER BY c.ordinal) AS text, count(c.id) AS chunks
     FROM sluice.documents d LEFT JOIN sluice.chunks c ON c.document_id = d.id GROUP BY d.id`,
  );
  return new Map(list.map((r) => [basename(r.uri), r]));
}

beforeAll(async () => {
  dir = scratchDir('hostile-formats');
  for (const c of CASES) c.write(join(dir.dir, c.name));
  for (const rel of NORMAL) cpSync(join(FIXTURES, rel), join(dir.dir, basename(rel)));
  p = await startPipeline({
    label: 'hostile-formats',
    env: { SLUICE_EXTRACT_TIMEOUT_MS: '20000', SLUICE_EXTRACT_MEMORY_MB: '256' },
  });
  const t0 = performance.now();
  await p.ingestAndWait([dir.dir], { timeoutMs: 60_000 });
  elapsedMs = performance.now() - t0;
}, 90_000);

afterAll(async () => {
  await p?.close();
  dir?.cleanup();
});

describe('hostile office, e-book, RTF and CSV files through the real pipeline', () => {
  it('every hostile file ends failed with its precise code or done with its text', async () => {
    const got = await rows();
    const outcome = (r: Row | undefined) => (r?.status === 'done' ? 'done' : `${r?.status}:${r?.error_code}`);
    const actual = Object.fromEntries(CASES.map((c) => [c.name, outcome(got.get(c.name))]));
    const wanted = Object.fromEntries(
      CASES.map((c) => [c.name, 'code' in c.expect ? `failed:${c.expect.code}` : 'done']),
    );
    expect(actual).toEqual(wanted);
    for (const c of CASES) {
      const r = got.get(c.name)!;
      if ('code' in c.expect) {
        expect(r.error_message, c.name).toBeTruthy();
        expect(r.error_message, c.name).not.toMatch(/\n\s+at /);
        expect(Number(r.chunks), c.name).toBe(0);
      } else for (const t of c.expect.text) expect(r.text, c.name).toContain(t);
    }
  });

  it('failure messages name the real format and say what to do', async () => {
    const got = await rows();
    expect(got.get('encrypted.xlsx')?.error_message).toMatch(
      /^XLSX is password-protected.*remove the password/,
    );
    expect(got.get('legacy.xls')?.error_message).toMatch(/legacy Excel.*save the file as \.xlsx/);
  });

  it('normal files of the same formats are unaffected', async () => {
    const got = await rows();
    for (const rel of NORMAL) {
      const r = got.get(basename(rel));
      expect({ rel, status: r?.status, code: r?.error_code }).toEqual({ rel, status: 'done', code: null });
      expect(Number(r?.chunks)).toBeGreaterThan(0);
    }
    expect(elapsedMs).toBeLessThan(60_000);
  });

  it('new formats beside the hostile files store their structure in chunk metadata', async () => {
    const meta = async (name: string) =>
      (
        await p.query<{ metadata: Record<string, unknown> }>(
          'SELECT c.metadata FROM sluice.chunks c JOIN sluice.documents d ON d.id = c.document_id WHERE d.uri = $1 ORDER BY c.ordinal',
          [join(dir.dir, name)],
        )
      ).map((r) => r.metadata);
    const slides = await meta('uns-sample-presentation.pptx');
    expect(slides.map((m) => m['page_start'])).toEqual([1, 2, 3, 4]);
    expect(slides[1]!['heading_path']).toEqual(['This is the first content slide']);
    const sheets = await meta('uns-stanley-cups.xlsx');
    expect(sheets.map((m) => [m['heading_path'], m['row_start'], m['row_end']])).toEqual([
      [['Stanley Cups'], 1, 5],
      [['Stanley Cups Since 67'], 1, 5],
    ]);
    const csv = await meta('docling-csv-comma.csv');
    expect(csv[0]).toMatchObject({ row_start: 1 });
    expect(csv.at(-1)).toMatchObject({ row_end: 6 });
  });

  it('the workers stay alive: a normal file ingested after the hostile batch completes', async () => {
    const after = join(dir.dir, 'after.csv');
    writeFileSync(after, 'bird,count\npuffin,12\n');
    await p.ingestAndWait([after], { timeoutMs: 20_000 });
    const r = (await rows()).get('after.csv');
    expect(r?.status).toBe('done');
    expect(r?.text).toContain('puffin | 12');
  });
});

// Issue 5, hostile corpus: files generated here plus the corpus' hostile files go
// through the real pipeline (in-process stage workers, extraction threads with
// time and memory limits) next to normal documents. Each hostile file ends
// `failed` with a precise code or `done` with sane text; the normal documents are
// unaffected and the workers still take new work afterwards.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, scratchDir } from '../helpers/corpus.ts';
import { type RawEntry, writeZip } from '../helpers/make-docx.ts';
import { makeReportPdf, PHRASE } from '../helpers/make-pdf.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

const TIMEOUT_MS = 20_000;
const PWNED = join(tmpdir(), `sluice-pwned-${process.pid}`);
const JS_PAYLOAD = `globalThis.process.getBuiltinModule('fs').writeFileSync('${PWNED}','pwned')`;

/** A PDF from raw object bodies (1-based), with a correct xref table. */
function rawPdf(objects: string[]): Uint8Array {
  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new Uint8Array(Buffer.from(out, 'latin1'));
}

const stream = (s: string) => `<< /Length ${Buffer.byteLength(s, 'latin1')} >>\nstream\n${s}\nendstream`;

/** 10,000 tiny pages sharing one content stream: ~1 MB, cheap to write, over the page limit. */
function tenThousandPagePdf(): Uint8Array {
  const n = 10_000;
  const kids = Array.from({ length: n }, (_, i) => `${i + 5} 0 R`).join(' ');
  const page =
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>';
  return rawPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${kids}] /Count ${n} >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    stream('BT /F1 12 Tf 20 100 Td (tiny page) Tj ET'),
    ...Array.from({ length: n }, () => page),
  ]);
}

/**
 * CVE-2024-4367 style: JavaScript smuggled in a FontMatrix, both in an embedded
 * Type1 program and in a Type3 font dictionary. With isEvalSupported: false (and
 * text extraction never compiling glyphs) the payload must never run.
 */
function maliciousFontPdf(): Uint8Array {
  const evilMatrix = `[0.001 0 0 0.001 0 (0\\); ${JS_PAYLOAD.replace(/[()]/g, '\\$&')}; //)]`;
  const type1 = [
    '%!PS-AdobeFont-1.0: Evil 001.000',
    '12 dict begin',
    '/FontName /Evil def',
    '/FontType 1 def',
    `/FontMatrix ${evilMatrix} readonly def`,
    '/FontBBox {0 0 1000 1000} readonly def',
    '/Encoding StandardEncoding def',
    'currentdict end',
    'currentfile eexec',
    '',
  ].join('\n');
  return rawPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R /F2 5 0 R /F3 8 0 R >> >> /Contents 9 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Evil /FirstChar 32 /LastChar 126 /FontDescriptor 6 0 R >>',
    '<< /Type /FontDescriptor /FontName /Evil /Flags 32 /FontBBox [0 0 1000 1000] /ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 /FontFile 7 0 R >>',
    `<< /Length ${type1.length} /Length1 ${type1.length} /Length2 0 /Length3 0 >>\nstream\n${type1}\nendstream`,
    `<< /Type /Font /Subtype /Type3 /FontBBox [0 0 1000 1000] /FontMatrix ${evilMatrix} /CharProcs << /a 10 0 R >> /Encoding << /Type /Encoding /Differences [97 /a] >> /FirstChar 97 /LastChar 97 /Widths [1000] /Resources << >> >>`,
    stream(
      'BT /F1 14 Tf 72 700 Td (Harmless visible text about lighthouses.) Tj ET\n' +
        'BT /F2 14 Tf 72 650 Td (evil font glyphs) Tj ET\nBT /F3 14 Tf 72 600 Td (aaa) Tj ET',
    ),
    stream('1000 0 0 0 750 750 d1 0 0 750 750 re f'),
  ]);
}

const OOXML_TYPES =
  '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Default Extension="xml" ContentType="application/xml"/>' +
  '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>';

/** A ZIP that sniffs as DOCX (its content types name the Word main part), with the given parts. */
function docx(parts: Record<string, string | Uint8Array>, extra: RawEntry[] = []): Uint8Array {
  const entries: RawEntry[] = [{ name: '[Content_Types].xml', data: Buffer.from(OOXML_TYPES) }];
  for (const [name, body] of Object.entries(parts))
    entries.push({ name, data: typeof body === 'string' ? Buffer.from(body) : body });
  return writeZip([...entries, ...extra]);
}

const DOC_XML = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`;

interface Case {
  name: string;
  write(path: string): void;
  /** A code means failed with that code; a string[] means done with text containing each. */
  expect: { code: string } | { text: string[] };
}

const CASES: Case[] = [
  {
    name: 'zip-bomb.docx',
    // 40 MB of zeros deflates to ~40 KB: the declared ratio is refused before inflating.
    write: (p) => writeFileSync(p, docx({ 'word/document.xml': new Uint8Array(40 * 1024 * 1024) })),
    expect: { code: 'TOO_LARGE' },
  },
  {
    name: 'lying-size-bomb.docx',
    write: (p) => {
      const big = Buffer.from(DOC_XML(`<w:p><w:r><w:t>${'a'.repeat(400_000)}</w:t></w:r></w:p>`));
      writeFileSync(p, docx({}, [{ name: 'word/document.xml', data: big, declaredSize: 1000 }]));
    },
    expect: { code: 'TOO_LARGE' },
  },
  {
    name: 'traversal.docx',
    write: (p) =>
      writeFileSync(
        p,
        docx({ 'word/document.xml': DOC_XML('<w:p/>'), '../../../../tmp/evil.sh': 'rm -rf /' }),
      ),
    expect: { code: 'CORRUPT_FILE' },
  },
  {
    name: 'entity-bomb.docx',
    write: (p) => {
      const lol = Array.from(
        { length: 9 },
        (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`,
      ).join('');
      const xml = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${lol}]><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>`;
      writeFileSync(p, docx({ 'word/document.xml': xml }));
    },
    expect: { code: 'CORRUPT_FILE' },
  },
  {
    name: 'xxe.docx',
    write: fixture('docx/poi-ExternalEntityInText.docx'),
    expect: { code: 'CORRUPT_FILE' },
  },
  {
    name: 'truncated.docx',
    write: fixture('docx/tika-testWORD_truncated.docx'),
    expect: { code: 'CORRUPT_FILE' },
  },
  {
    name: 'pages-10000.pdf',
    write: (p) => writeFileSync(p, tenThousandPagePdf()),
    expect: { code: 'TOO_LARGE' },
  },
  {
    name: 'evil-font.pdf',
    write: (p) => writeFileSync(p, maliciousFontPdf()),
    expect: { text: ['Harmless visible text about lighthouses'] },
  },
  { name: 'truncated.pdf', write: fixture('pdf/pdfparse-invalid.pdf'), expect: { code: 'CORRUPT_FILE' } },
  {
    name: 'fuzzed.pdf',
    write: fixture('pdf/pdfjs-poppler-395-0-fuzzed.pdf'),
    expect: { code: 'CORRUPT_FILE' },
  },
  // Circular /Form XObjects once made pdf.js spin for 20 s; the bundled version copes (time-limited anyway).
  { name: 'circular-xobject.pdf', write: fixture('pdf/pdfjs-issue19800.pdf'), expect: { text: [] } },
  // Circular /Pages tree: the readable page is kept, the broken one is listed (see the test below).
  { name: 'circular-pages.pdf', write: fixture('pdf/pdfjs-Pages-tree-refs.pdf'), expect: { text: [] } },
  // A ZIP (local header lying about ~2 GB) that is no Office document, whatever its name.
  {
    name: 'zip-oom-bait.docx',
    write: fixture('zip/tika-testZIP_corrupted_oom.zip'),
    expect: { code: 'UNSUPPORTED_TYPE' },
  },
  {
    name: 'deep-nesting.html',
    write: (p) =>
      writeFileSync(
        p,
        `<html><body>${'<div>'.repeat(100_000)}<p>Bottom of the well says hello.</p>${'</div>'.repeat(100_000)}</body></html>`,
      ),
    expect: { text: ['Bottom of the well says hello.'] },
  },
  {
    name: 'scripts.html',
    write: (p) =>
      writeFileSync(
        p,
        `<html><head><title>Scripted page</title><script>${JS_PAYLOAD}; var SCRIPTMARKER_HEAD = 1;</script>
<style>.x{content:"STYLEMARKER"}</style></head><body onload="${JS_PAYLOAD.replace(/'/g, '&#39;')}">
<h1>Visible heading about otters</h1><p>Otters hold hands while they sleep.</p>
<script type="module">import('data:text/javascript,SCRIPTMARKER_MODULE')</script>
<iframe src="javascript:alert('IFRAMEMARKER_SRC')" srcdoc="<p>IFRAMEMARKER_SRCDOC</p>"></iframe>
<noscript><p>Enable scripts</p></noscript><template><p>TEMPLATEMARKER</p></template>
<img src=x onerror="alert('ONERRORMARKER')"><p>Second paragraph about river otters.</p></body></html>`,
      ),
    expect: { text: ['Otters hold hands while they sleep.', 'Second paragraph about river otters.'] },
  },
  { name: 'empty.txt', write: (p) => writeFileSync(p, ''), expect: { code: 'NO_TEXT' } },
  {
    // Binary bytes are not Markdown whatever the name says.
    name: 'garbage.md',
    write: (p) =>
      writeFileSync(p, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 256))),
    expect: { code: 'UNSUPPORTED_TYPE' },
  },
  {
    name: 'utf16le-no-bom.txt',
    write: (p) =>
      writeFileSync(
        p,
        Buffer.from('Little endian sixteen bit text without a byte order mark.\n'.repeat(4), 'utf16le'),
      ),
    expect: { text: ['Little endian sixteen bit text without a byte order mark.'] },
  },
  {
    name: 'utf16be-no-bom.txt',
    write: fixture('txt/uns-fake-text-utf-16-be.txt'),
    expect: { text: ['This is a test document'] },
  },
  {
    name: 'invalid-utf8.txt',
    write: (p) =>
      writeFileSync(
        p,
        Buffer.concat([
          Buffer.from('Valid opening sentence about harbours. '),
          Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc]),
          Buffer.from(' Valid closing sentence about lighthouses.\n'),
        ]),
      ),
    expect: { text: ['Valid opening sentence about harbours.', 'Valid closing sentence about lighthouses.'] },
  },
  { name: 'xml-bomb.xlsx', write: fixture('xlsx/poi-poc-xmlbomb.xlsx'), expect: { code: 'TOO_LARGE' } },
  { name: 'droste.zip', write: fixture('zip/tika-droste.zip'), expect: { code: 'UNSUPPORTED_TYPE' } },
  {
    name: 'sparse-1gb.txt',
    write: (p) => execFileSync('truncate', ['-s', '1G', p]),
    expect: { code: 'TOO_LARGE' },
  },
  // File names a careless pipeline would mangle, interpret or print unsafely.
  ...[
    '..\\..\\windows\\win.ini.txt',
    '..__..__etc__passwd.txt',
    'notes..\\..\\..txt',
    `it's "quoted" '; DROP TABLE sluice.chunks; --.txt`,
    'two\nlines\r\nname.txt',
    'invoice\u202Etxt.exe\u202C.md',
    '\u200F\u05E9\u05DC\u05D5\u05DD rtl name.txt',
  ].map<Case>((name, i) => ({
    name,
    write: (p) => writeFileSync(p, `Odd file name number ${i} holds ordinary text about kingfishers.\n`),
    expect: { text: [`Odd file name number ${i} holds ordinary text about kingfishers.`] },
  })),
];

function fixture(rel: string): (path: string) => void {
  return (p) => cpSync(join(FIXTURES, rel), p);
}

const NORMAL = ['txt/deb-dedication-9.0.txt', 'md/docling-wiki.md', 'html/deb-pkg-basics.en.html'];

let p: TestPipeline;
let dir: ReturnType<typeof scratchDir>;
let elapsedMs = 0;
let readBytes = 0;

const rchar = (): number => Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? 0);

interface Row {
  uri: string;
  status: string;
  error_code: string | null;
  error_message: string | null;
  stage: string | null;
  text: string | null;
  chunks: string;
}

async function rows(): Promise<Map<string, Row>> {
  const list = await p.query<Row>(
    `SELECT d.uri, d.status, d.error_code, d.error_message, d.stage,
            string_agg(c.text, ' ' ORDER BY c.ordinal) AS text, count(c.id) AS chunks
     FROM sluice.documents d LEFT JOIN sluice.chunks c ON c.document_id = d.id GROUP BY d.id`,
  );
  return new Map(list.map((r) => [basename(r.uri), r]));
}

beforeAll(async () => {
  rmSync(PWNED, { force: true });
  dir = scratchDir('hostile');
  for (const c of CASES) c.write(join(dir.dir, c.name));
  for (const rel of NORMAL) cpSync(join(FIXTURES, rel), join(dir.dir, basename(rel)));
  writeFileSync(join(dir.dir, 'report.pdf'), await makeReportPdf());
  p = await startPipeline({
    label: 'hostile',
    env: { SLUICE_EXTRACT_TIMEOUT_MS: String(TIMEOUT_MS), SLUICE_EXTRACT_MEMORY_MB: '256' },
  });
  const t0 = performance.now();
  const r0 = rchar();
  // Names starting with '.' are hidden (skipped by a folder walk): name them explicitly.
  const hidden = CASES.filter((c) => c.name.startsWith('.')).map((c) => join(dir.dir, c.name));
  await p.ingestAndWait([dir.dir, ...hidden], { timeoutMs: 50_000 });
  readBytes = rchar() - r0;
  elapsedMs = performance.now() - t0;
}, 90_000);

afterAll(async () => {
  await p?.close();
  dir?.cleanup();
  rmSync(PWNED, { force: true });
});

describe('hostile corpus through the real pipeline', () => {
  it('every hostile file ends failed with its precise code or done with sane text', async () => {
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
        // Failures say what went wrong, without a stack trace.
        expect(r.error_message, c.name).toBeTruthy();
        expect(r.error_message, c.name).not.toMatch(/\n\s+at /);
        expect(Number(r.chunks), c.name).toBe(0);
      } else {
        for (const t of c.expect.text) expect(r.text, c.name).toContain(t);
        // Sane text: no NULs, no lone surrogates, no replacement-character soup.
        expect(r.text, c.name).not.toMatch(/\u0000|[\uD800-\uDFFF]/);
        expect((r.text!.match(/\uFFFD/g) ?? []).length, c.name).toBeLessThan(10);
      }
    }
  });

  it('no script, style, iframe or template content is indexed, and no payload ran', async () => {
    const all = await p.query<{ text: string }>('SELECT text FROM sluice.chunks');
    const text = all.map((r) => r.text).join('\n');
    for (const marker of [
      'SCRIPTMARKER',
      'STYLEMARKER',
      'IFRAMEMARKER',
      'ONERRORMARKER',
      'TEMPLATEMARKER',
      'writeFileSync',
      'getBuiltinModule',
    ]) {
      expect(text).not.toContain(marker);
    }
    expect(existsSync(PWNED)).toBe(false);
  });

  it('a PDF whose page tree is circular keeps its good pages and lists the failed ones', async () => {
    const [doc] = await p.query<{ metadata: { failedPages?: number[]; pageCount?: number } }>(
      'SELECT metadata FROM sluice.documents WHERE uri = $1',
      [join(dir.dir, 'circular-pages.pdf')],
    );
    expect(doc?.metadata.failedPages?.length).toBeGreaterThan(0);
  });

  it('the 1 GB sparse file is refused TOO_LARGE from its size, before anything reads it', async () => {
    const r = (await rows()).get('sparse-1gb.txt')!;
    expect(r.stage).toBeNull(); // never reached a stage
    expect(r.error_message).toMatch(/SLUICE_MAX_FILE_BYTES/);
    // The whole ingest read far less than the file: it was sized by stat, never hashed.
    expect(readBytes).toBeLessThan(200 * 1024 * 1024);
  });

  it('hostile files stay inside their limits: the batch finishes in bounded time', async () => {
    expect(elapsedMs).toBeLessThan(45_000);
    const slow = await p.query<{ ms: number }>(
      `SELECT max(duration_ms) AS ms FROM sluice.stage_runs WHERE stage = 'extract'`,
    );
    expect(Number(slow[0]?.ms)).toBeLessThan(TIMEOUT_MS + 3000);
  });

  it('normal documents processed alongside are unaffected', async () => {
    const got = await rows();
    for (const name of [...NORMAL.map((n) => basename(n)), 'report.pdf']) {
      const r = got.get(name);
      expect({ name, status: r?.status, code: r?.error_code }).toEqual({ name, status: 'done', code: null });
      expect(Number(r?.chunks)).toBeGreaterThan(0);
    }
    expect(got.get('report.pdf')?.text).toContain(PHRASE);
  });

  it('file names are stored exactly, not interpreted, and the tables survive', async () => {
    const uris = await p.query<{ uri: string }>('SELECT uri FROM sluice.documents');
    for (const c of CASES) expect(uris.map((u) => u.uri)).toContain(join(dir.dir, c.name));
    const chunks = await p.query<{ n: string }>('SELECT count(*) AS n FROM sluice.chunks');
    expect(Number(chunks[0]?.n)).toBeGreaterThan(0);
  });

  it('the workers stay alive: a normal file ingested after the hostile batch completes', async () => {
    const after = join(dir.dir, 'after.md');
    writeFileSync(after, '# After the storm\n\nA calm paragraph about puffins after the hostile batch.\n');
    await p.ingestAndWait([after], { timeoutMs: 20_000 });
    const r = (await rows()).get('after.md');
    expect(r?.status).toBe('done');
    expect(r?.text).toContain('calm paragraph about puffins');
  });
});

describe('extraction limits through the pipeline', () => {
  it('a parse that outlasts SLUICE_EXTRACT_TIMEOUT_MS fails TIMEOUT; one over SLUICE_EXTRACT_MEMORY_MB fails TOO_LARGE; neighbours finish', async () => {
    const lim = scratchDir('limits');
    // 100,000 nested elements take the HTML parser several seconds (quadratic in depth).
    const deep = join(lim.dir, 'deep.html');
    writeFileSync(
      deep,
      `<html><body>${'<div>'.repeat(100_000)}<p>x</p>${'</div>'.repeat(100_000)}</body></html>`,
    );
    // 60 MB of text cannot be decoded and split within a 40 MB heap.
    const huge = join(lim.dir, 'huge.txt');
    writeFileSync(huge, 'plain words for the heap ceiling test\n'.repeat(1_600_000));
    const ok = join(lim.dir, 'ok.txt');
    writeFileSync(ok, 'A small neighbour document about wrens.\n');
    const run = async (env: Record<string, string>, files: string[]) => {
      const q = await startPipeline({ label: 'limits', env });
      try {
        await q.ingestAndWait(files, { timeoutMs: 60_000 });
        const r = await q.query<{ uri: string; status: string; error_code: string | null }>(
          'SELECT uri, status, error_code FROM sluice.documents',
        );
        return Object.fromEntries(r.map((x) => [basename(x.uri), `${x.status}:${x.error_code ?? ''}`]));
      } finally {
        await q.close();
      }
    };
    try {
      expect(await run({ SLUICE_EXTRACT_TIMEOUT_MS: '1500' }, [deep, ok])).toEqual({
        'deep.html': 'failed:TIMEOUT',
        'ok.txt': 'done:',
      });
      expect(await run({ SLUICE_EXTRACT_MEMORY_MB: '40' }, [huge, ok])).toEqual({
        'huge.txt': 'failed:TOO_LARGE',
        'ok.txt': 'done:',
      });
    } finally {
      lim.cleanup();
    }
  });
});

describe('hostile mail through the pipeline', () => {
  it('recursive attachments, attachment bombs, huge headers and deep MIME nesting fail alone or stop at their limits', async () => {
    const { message } = await import('../helpers/make-eml.ts');
    const { waitIdle } = await import('../helpers/pipeline.ts');
    const mail = scratchDir('hostile-mail');
    const put = (name: string, data: Uint8Array | string) => writeFileSync(join(mail.dir, name), data);
    const text = (name: string, body: string) => ({
      name,
      type: 'text/plain',
      data: new TextEncoder().encode(body),
    });
    // 30 messages each forwarding the next: only SLUICE_MAX_ATTACHMENT_DEPTH levels are followed.
    let nested = message('level 30', 'the bottom', [text('bottom.txt', 'the very bottom')]);
    for (let i = 29; i >= 1; i--) {
      nested = message(`level ${i}`, `level ${i} body`, [
        { name: 'fwd.eml', type: 'message/rfc822', data: nested },
      ]);
    }
    put('recursive.eml', nested);
    // 5,000 undecodable attachments: listed up to the cap, none indexed.
    const blobs = Array.from({ length: 5_000 }, (_, i) => ({
      name: `blob-${i}.bin`,
      type: 'application/octet-stream',
      data: new Uint8Array(16).map((_, j) => ((i + j) % 8) + 1),
    }));
    put('bomb.eml', message('bomb', 'many parts', blobs));
    // 50 readable attachments: only SLUICE_MAX_ATTACHMENTS become documents.
    put(
      'many.eml',
      message(
        'many',
        'many notes',
        Array.from({ length: 50 }, (_, i) => text(`n${i}.txt`, `note ${i} about terns`)),
      ),
    );
    // A zip bomb attached as .docx: the attachment fails TOO_LARGE, the message is indexed.
    const zeros: RawEntry = { name: 'word/media/zeros.bin', data: new Uint8Array(30 * 1024 * 1024) };
    const docxBomb = writeZip([
      {
        name: '[Content_Types].xml',
        data: Buffer.from(
          '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        ),
      },
      {
        name: 'word/document.xml',
        data: Buffer.from(
          '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>hi</w:t></w:r></w:p></w:body></w:document>',
        ),
      },
      zeros,
    ]);
    put(
      'zip-bomb-attached.eml',
      message('bomb inside', 'see the attachment', [
        {
          name: 'bomb.docx',
          type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
          data: docxBomb,
        },
      ]),
    );
    // 2 MB of header fields, and 2,000 nested multiparts.
    put(
      'huge-headers.eml',
      `From: a@example.com\r\nTo: b@example.com\r\nSubject: huge\r\n${'X-Junk: 0123456789abcdef\r\n'.repeat(80_000)}\r\nbody\r\n`,
    );
    const open = Array.from(
      { length: 2_000 },
      (_, i) => `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`,
    ).join('');
    put(
      'deep-mime.eml',
      `From: a@example.com\r\nTo: b@example.com\r\nSubject: deep\r\nMIME-Version: 1.0\r\n${open}Content-Type: text/plain\r\n\r\nbottom\r\n`,
    );
    put('neighbour.eml', message('neighbour', 'An ordinary message about plovers.', []));
    const q = await startPipeline({
      label: 'hostile-mail',
      env: { SLUICE_MAX_ATTACHMENTS: '5', SLUICE_EXTRACT_MEMORY_MB: '256' },
    });
    try {
      await q.ingestAndWait([mail.dir], { timeoutMs: 90_000 });
      await waitIdle(q, 90_000);
      const docs = await q.query<{
        uri: string;
        status: string;
        error_code: string | null;
        metadata: Record<string, unknown>;
      }>('SELECT uri, status, error_code, metadata FROM sluice.documents');
      const by = new Map(docs.map((d) => [d.uri.slice(mail.dir.length + 1), d]));
      const status = (name: string) => `${by.get(name)?.status}:${by.get(name)?.error_code ?? ''}`;
      expect(status('neighbour.eml')).toBe('done:');
      expect(status('recursive.eml')).toBe('done:');
      const recursive = [...by.keys()].filter((u) => u.startsWith('recursive.eml#'));
      expect(recursive.map((u) => u.split('/attachment/').length).sort()).toEqual([1, 2, 3]);
      expect(recursive.every((u) => by.get(u)?.status === 'done')).toBe(true);
      expect(status('bomb.eml')).toBe('done:');
      expect(by.get('bomb.eml')?.metadata).toMatchObject({ attachmentCount: 5_000 });
      expect(by.get('bomb.eml')?.metadata.attachments).toHaveLength(1_000);
      expect([...by.keys()].filter((u) => u.startsWith('bomb.eml#'))).toEqual([]);
      expect(status('many.eml')).toBe('done:');
      expect([...by.keys()].filter((u) => u.startsWith('many.eml#')).length).toBe(5);
      expect(status('zip-bomb-attached.eml')).toBe('done:');
      expect(status('zip-bomb-attached.eml#attachment/0/bomb.docx')).toBe('failed:TOO_LARGE');
      expect(status('huge-headers.eml')).toBe('failed:TOO_LARGE');
      expect(status('deep-mime.eml')).toBe('failed:TOO_LARGE');
      // The workers still take work.
      put('after.eml', message('after', 'A calm message about avocets after the storm.', []));
      await q.ingestAndWait([join(mail.dir, 'after.eml')], { timeoutMs: 30_000 });
      const [after] = await q.query<{ status: string }>(
        'SELECT status FROM sluice.documents WHERE uri = $1',
        [join(mail.dir, 'after.eml')],
      );
      expect(after?.status).toBe('done');
    } finally {
      await q.close();
      mail.cleanup();
    }
  }, 240_000);
});

// needs a Postgres server: runs sluice in child processes on the test's database (the embedded one is single-process)
// Never garbage, silently (issue 13): text files in legacy encodings are stored as
// the words that were written; text that looks like garbage ends failed LOW_QUALITY
// with its score on the document and in `sluice status`, unless low quality is
// accepted; an undetectable binary named .txt never ends done.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEbcdic } from '../../src/extractors/ebcdic.ts';
import { ingestFiles } from '../../src/queue/producer.ts';
import { resolveInputs } from '../../src/sources/files.ts';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';

/** [file, iconv-lite encoding, text]: UDHR article 1, repeated so detectors see a real file. */
const LEGACY: [string, string, string][] = [
  [
    'ja-sjis.txt',
    'shift_jis',
    'すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。',
  ],
  [
    'ja-eucjp.txt',
    'euc-jp',
    '人間は、理性と良心とを授けられており、互いに同胞の精神をもって行動しなければならない。',
  ],
  [
    'zh-gbk.txt',
    'gbk',
    '人人生而自由，在尊严和权利上一律平等。他们赋有理性和良心，并应以兄弟关系的精神相对待。',
  ],
  [
    'zh-gb18030.txt',
    'gb18030',
    '他们赋有理性和良心，并应以兄弟关系的精神相对待。人人生而自由，在尊严和权利上一律平等。',
  ],
  [
    'zh-big5.txt',
    'big5',
    '人人生而自由，在尊嚴和權利上一律平等。他們賦有理性和良心，並應以兄弟關係的精神相對待。',
  ],
  [
    'ko-euckr.txt',
    'euc-kr',
    '모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다. 인간은 천부적으로 이성과 양심을 부여받았다.',
  ],
  [
    'ru-koi8.txt',
    'koi8-r',
    'Все люди рождаются свободными и равными в своем достоинстве и правах. Они наделены разумом и совестью.',
  ],
  [
    'ru-1251.txt',
    'windows-1251',
    'Они наделены разумом и совестью и должны поступать в отношении друг друга в духе братства.',
  ],
  [
    'cs-1250.txt',
    'windows-1250',
    'Všichni lidé rodí se svobodní a sobě rovní co do důstojnosti a práv. Jsou nadáni rozumem a svědomím.',
  ],
  [
    'fr-1252.txt',
    'windows-1252',
    'Tous les êtres humains naissent libres et égaux en dignité et en droits. Ils sont doués de raison.',
  ],
  [
    'el-1253.txt',
    'windows-1253',
    'Όλοι οι άνθρωποι γεννιούνται ελεύθεροι και ίσοι στην αξιοπρέπεια και τα δικαιώματα.',
  ],
  [
    'tr-1254.txt',
    'windows-1254',
    'Bütün insanlar hür, haysiyet ve haklar bakımından eşit doğarlar. Akıl ve vicdana sahiptirler.',
  ],
  [
    'ar-1256.txt',
    'windows-1256',
    'يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق. وقد وهبوا عقلاً وضميرًا.',
  ],
];
const EBCDIC_TEXT =
  'All human beings are born free and equal in dignity and rights. They are endowed with reason and conscience.';
const repeat = (s: string) => `${s}\n${s}\n\n${s}\n`;

function ebcdic(text: string): Uint8Array {
  const table = new Map<string, number>();
  for (let b = 255; b >= 0; b--) table.set(decodeEbcdic(new Uint8Array([b]), 'ibm037'), b);
  return new Uint8Array([...text].map((ch) => table.get(ch) ?? 0x6f));
}

let p: TestPipeline;
let dir: ReturnType<typeof scratchDir>;

beforeAll(async () => {
  dir = scratchDir('quality');
  const put = (name: string, bytes: Uint8Array) => writeFileSync(join(dir.dir, name), bytes);
  for (const [name, encoding, text] of LEGACY) put(name, iconv.encode(repeat(text), encoding));
  put('en-ebcdic.txt', ebcdic(repeat(EBCDIC_TEXT)));
  // High bytes with spaces: passes as text, decodes to letters in no language.
  put('mojibake.txt', new Uint8Array(randomBytes(20_000).map((b, i) => (i % 7 === 0 ? 0x20 : b | 0x80))));
  put(
    'base64.txt',
    Buffer.from(
      randomBytes(15_000)
        .toString('base64')
        .replace(/(.{76})/g, '$1\n'),
    ),
  );
  put('binary.txt', randomBytes(20_000));
  p = await startPipeline({ label: 'quality' });
}, 60_000);

afterAll(async () => {
  await p?.close();
  dir?.cleanup();
});

async function docByName(name: string) {
  const [row] = await p.query<{
    id: number;
    status: string;
    error_code: string | null;
    error_message: string | null;
    metadata: { charset?: string; quality?: { score: number; low: boolean; reasons: string[] } };
  }>('SELECT id, status, error_code, error_message, metadata FROM sluice.documents WHERE uri = $1', [
    join(dir.dir, name),
  ]);
  return row!;
}

describe('quality gate and legacy charsets', () => {
  it('stores legacy-encoded text files as the words that were written, and fails garbage', async () => {
    await p.ingestAndWait([dir.dir], { timeoutMs: 120_000 });
    for (const [name, , text] of [...LEGACY, ['en-ebcdic.txt', 'ibm037', EBCDIC_TEXT] as const]) {
      const doc = await docByName(name);
      expect(doc.status, `${name}: ${doc.error_code} ${doc.error_message}`).toBe('done');
      expect(doc.metadata.quality?.low).toBe(false);
      const chunks = await p.query<{ text: string }>(
        'SELECT text FROM sluice.chunks WHERE document_id = $1',
        [doc.id],
      );
      expect(chunks.map((c) => c.text).join('\n'), name).toContain(text);
    }
    for (const name of ['mojibake.txt', 'base64.txt']) {
      const doc = await docByName(name);
      expect(doc.status, name).toBe('failed');
      expect(doc.error_code, name).toBe('LOW_QUALITY');
      expect(doc.error_message).toMatch(/--accept-low-quality/);
      expect(doc.metadata.quality?.score).toBeLessThan(0.5);
      expect(doc.metadata.quality?.reasons.length).toBeGreaterThan(0);
    }
    expect((await docByName('base64.txt')).error_message).toMatch(/base64/);
    const binary = await docByName('binary.txt');
    expect(binary.status).toBe('failed');
    expect(['LOW_QUALITY', 'UNSUPPORTED_TYPE']).toContain(binary.error_code);
  }, 150_000);

  it('shows the score of failures in `sluice status`', async () => {
    const json = await runCli(['status', '--json'], { env: p.env });
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as {
      recentFailures: { uri: string; code: string; quality: number }[];
    };
    const failure = report.recentFailures.find((f) => f.uri.endsWith('mojibake.txt'));
    expect(failure?.code).toBe('LOW_QUALITY');
    expect(failure?.quality).toBeLessThan(0.5);
    const text = await runCli(['status'], { env: p.env });
    expect(text.stdout).toMatch(/mojibake\.txt \[extract\] LOW_QUALITY \(quality 0\.\d\d\)/);
  }, 60_000);

  it('indexes low-quality text when it is accepted, keeping the score', async () => {
    const summary = await ingestFiles(p.rt, await resolveInputs([join(dir.dir, 'base64.txt')]), {
      collection: p.config.collection,
      force: true,
      acceptLowQuality: true,
    });
    const { waitForDocuments } = await import('../../src/queue/producer.ts');
    const waited = await waitForDocuments(p.rt, summary.waitIds, { timeoutMs: 60_000, intervalMs: 100 });
    expect(waited.timedOut).toBe(false);
    const doc = await docByName('base64.txt');
    expect(doc.status).toBe('done');
    expect(doc.metadata.quality?.low).toBe(true);
    const status = await runCli(['status', '--json'], { env: p.env });
    expect((JSON.parse(status.stdout) as { lowQualityAccepted: number }).lowQualityAccepted).toBe(1);
  }, 90_000);
});

// Generated DOCX fixtures (the `docx` package) with known structure, and a tiny ZIP
// writer for hostile archives (bombs, lying sizes, path traversal) built in the test.
import { crc32, deflateRawSync } from 'node:zlib';
import {
  Document,
  FootnoteReferenceRun,
  HeadingLevel,
  Packer,
  Paragraph,
  Table,
  TableCell,
  TableRow,
  TextRun,
} from 'docx';

const cell = (text: string): TableCell => new TableCell({ children: [new Paragraph(text)] });

/** Headings (two levels), a bullet list, a table with a header row and a footnote. */
export async function makeStructuredDocx(): Promise<Uint8Array> {
  const doc = new Document({
    title: 'Field Guide',
    creator: 'Test Author',
    footnotes: { 1: { children: [new Paragraph('Observed in spring only.')] } },
    sections: [
      {
        children: [
          new Paragraph({ text: 'Birds', heading: HeadingLevel.HEADING_1 }),
          new Paragraph({ children: [new TextRun('Birds are common here.'), new FootnoteReferenceRun(1)] }),
          new Paragraph({ text: 'Waders', heading: HeadingLevel.HEADING_2 }),
          new Paragraph({ text: 'Curlew', bullet: { level: 0 } }),
          new Paragraph({ text: 'Redshank', bullet: { level: 0 } }),
          new Table({
            rows: [
              new TableRow({ children: [cell('Species'), cell('Count')] }),
              new TableRow({ children: [cell('Curlew'), cell('12')] }),
            ],
          }),
          new Paragraph({ text: 'Mammals', heading: HeadingLevel.HEADING_1 }),
          new Paragraph('Otters visit at dusk.'),
        ],
      },
    ],
  });
  return new Uint8Array(await Packer.toBuffer(doc));
}

/** An entry for {@link writeZip}; `declaredSize` lets a test lie about the inflated size. */
export interface RawEntry {
  name: string;
  data: Uint8Array;
  declaredSize?: number;
  /** Store the data uncompressed (method 0): highly repetitive hostile parts then pass the ratio check. */
  stored?: boolean;
}

/** A minimal deflate ZIP (no ZIP64), enough for mammoth and for hostile variants. */
export function writeZip(entries: readonly RawEntry[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const packed = e.stored ? Buffer.from(e.data) : deflateRawSync(e.data);
    const method = e.stored ? 0 : 8;
    const size = e.declaredSize ?? e.data.length;
    const crc = crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += 30 + name.length + packed.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, dir, end]));
}

const CONTENT_TYPES =
  '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Default Extension="xml" ContentType="application/xml"/></Types>';

/** A DOCX-shaped ZIP whose parts are given; adds [Content_Types].xml. */
export function docxLike(parts: Record<string, string | Uint8Array>, extra: RawEntry[] = []): Uint8Array {
  const entries: RawEntry[] = [{ name: '[Content_Types].xml', data: Buffer.from(CONTENT_TYPES) }];
  for (const [name, body] of Object.entries(parts)) {
    entries.push({ name, data: typeof body === 'string' ? Buffer.from(body) : body });
  }
  return writeZip([...entries, ...extra]);
}

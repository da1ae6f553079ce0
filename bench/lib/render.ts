// Renders a document spec (bench/lib/text.ts) as the bytes of one file format:
// Markdown, HTML, plain text, PDF (pdf-lib, Helvetica, wrapped lines, page
// breaks) or DOCX (the `docx` package, real heading styles). Heavy libraries
// load on first use.
import type { DocSpec } from './text.ts';

export type Format = 'md' | 'html' | 'txt' | 'pdf' | 'docx';

export const FORMATS: readonly Format[] = ['md', 'html', 'txt', 'pdf', 'docx'];

function markdown(spec: DocSpec): string {
  const out = [`# ${spec.title}`, ''];
  for (const s of spec.sections) {
    out.push(`${'#'.repeat(s.level + 1)} ${s.heading}`, '');
    for (const p of s.paragraphs) out.push(p, '');
  }
  return out.join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function html(spec: DocSpec): string {
  const body: string[] = [`<h1>${esc(spec.title)}</h1>`];
  for (const s of spec.sections) {
    body.push(`<h${s.level + 1}>${esc(s.heading)}</h${s.level + 1}>`);
    for (const p of s.paragraphs) body.push(`<p>${esc(p)}</p>`);
  }
  return [
    '<!DOCTYPE html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${esc(spec.title)}</title>`,
    '<style>body{font-family:sans-serif;max-width:40em}</style></head>',
    '<body><nav><a href="/">Home</a> | <a href="/docs">Docs</a></nav><main>',
    ...body,
    '</main><footer>Generated for the sluice benchmark.</footer></body></html>',
    '',
  ].join('\n');
}

/** Plain text: headings as underlined lines, as READMEs and notes often look. */
function text(spec: DocSpec): string {
  const out = [spec.title, '='.repeat(spec.title.length), ''];
  for (const s of spec.sections) {
    out.push(s.heading.toUpperCase(), '');
    for (const p of s.paragraphs) out.push(p, '');
  }
  return out.join('\n');
}

function wrap(line: string, width: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const w of line.split(' ')) {
    if (cur && cur.length + 1 + w.length > width) {
      out.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) out.push(cur);
  return out;
}

async function pdf(spec: DocSpec): Promise<Uint8Array> {
  const { PDFDocument, StandardFonts } = await import('pdf-lib');
  const doc = await PDFDocument.create();
  doc.setTitle(spec.title);
  doc.setCreationDate(new Date('2025-01-01T00:00:00Z'));
  doc.setModificationDate(new Date('2025-01-01T00:00:00Z'));
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  let page = doc.addPage([595, 842]);
  let y = 780;
  const line = (s: string, size: number, f = font) => {
    if (y < 60) {
      page = doc.addPage([595, 842]);
      y = 780;
    }
    page.drawText(s, { x: 60, y, size, font: f });
    y -= size + 4;
  };
  line(spec.title, 16, bold);
  y -= 8;
  for (const s of spec.sections) {
    y -= 6;
    line(s.heading, 15 - s.level, bold);
    for (const p of s.paragraphs) {
      for (const l of wrap(p, 95)) line(l, 10);
      y -= 6;
    }
  }
  return doc.save();
}

async function docx(spec: DocSpec): Promise<Uint8Array> {
  const { Document, HeadingLevel, Packer, Paragraph } = await import('docx');
  const levels = [
    HeadingLevel.HEADING_1,
    HeadingLevel.HEADING_2,
    HeadingLevel.HEADING_3,
    HeadingLevel.HEADING_4,
  ];
  const children = [new Paragraph({ text: spec.title, heading: HeadingLevel.TITLE })];
  for (const s of spec.sections) {
    children.push(new Paragraph({ text: s.heading, heading: levels[s.level - 1] ?? HeadingLevel.HEADING_3 }));
    for (const p of s.paragraphs) children.push(new Paragraph(p));
  }
  // docx and JSZip stamp `new Date()` into core.xml and the ZIP entries; a frozen
  // clock makes the same spec give the same bytes (nothing else runs meanwhile).
  const RealDate = Date;
  const fixed = RealDate.UTC(2025, 0, 1);
  globalThis.Date = class extends RealDate {
    constructor(...args: [] | [string | number | Date]) {
      if (args.length === 0) super(fixed);
      else super(args[0]);
    }
    static override now() {
      return fixed;
    }
  } as DateConstructor;
  try {
    const d = new Document({ title: spec.title, creator: 'sluice bench', sections: [{ children }] });
    return new Uint8Array(await Packer.toBuffer(d));
  } finally {
    globalThis.Date = RealDate;
  }
}

/** The file bytes of `spec` in `format`. */
export async function render(spec: DocSpec, format: Format): Promise<Uint8Array> {
  switch (format) {
    case 'md':
      return Buffer.from(markdown(spec), 'utf8');
    case 'html':
      return Buffer.from(html(spec), 'utf8');
    case 'txt':
      return Buffer.from(text(spec), 'utf8');
    case 'pdf':
      return pdf(spec);
    case 'docx':
      return docx(spec);
  }
}

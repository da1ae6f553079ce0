// DOCX beyond mammoth: automatic heading and list numbers, paragraphs apart inside
// table cells, page headers/footers marked, equations kept as LaTeX-like text.
import {
  AlignmentType,
  Document,
  Footer,
  Header,
  HeadingLevel,
  LevelFormat,
  Packer,
  Paragraph,
  Table,
  TableCell,
  TableRow,
} from 'docx';
import { describe, expect, it } from 'vitest';
import { docxExtractor } from '../../../src/extractors/docx.ts';
import { fixture } from './fixtures.ts';
import { allText, run } from './office-helpers.ts';

async function numberedDocx(): Promise<Uint8Array> {
  const doc = new Document({
    numbering: {
      config: [
        {
          reference: 'heads',
          levels: [
            { level: 0, format: LevelFormat.DECIMAL, text: '%1', alignment: AlignmentType.LEFT },
            { level: 1, format: LevelFormat.DECIMAL, text: '%1.%2', alignment: AlignmentType.LEFT },
          ],
        },
        {
          reference: 'steps',
          levels: [{ level: 0, format: LevelFormat.DECIMAL, text: '%1.', alignment: AlignmentType.LEFT }],
        },
      ],
    },
    sections: [
      {
        headers: { default: new Header({ children: [new Paragraph('Company Confidential')] }) },
        footers: { default: new Footer({ children: [new Paragraph('Printed copies are uncontrolled')] }) },
        children: [
          new Paragraph({
            text: 'Introduction',
            heading: HeadingLevel.HEADING_1,
            numbering: { reference: 'heads', level: 0 },
          }),
          new Paragraph('Some words.'),
          new Paragraph({
            text: 'Requirements',
            heading: HeadingLevel.HEADING_1,
            numbering: { reference: 'heads', level: 0 },
          }),
          new Paragraph({
            text: 'Scope',
            heading: HeadingLevel.HEADING_2,
            numbering: { reference: 'heads', level: 1 },
          }),
          new Paragraph({ text: 'Unpack the box', numbering: { reference: 'steps', level: 0 } }),
          new Paragraph({ text: 'Plug it in', numbering: { reference: 'steps', level: 0 } }),
          new Paragraph({ text: 'Switch it on', numbering: { reference: 'steps', level: 0 } }),
          new Table({
            rows: [
              new TableRow({
                children: [
                  new TableCell({ children: [new Paragraph('Address')] }),
                  new TableCell({ children: [new Paragraph('1 High Street'), new Paragraph('Springfield')] }),
                ],
              }),
            ],
          }),
        ],
      },
    ],
  });
  return new Uint8Array(await Packer.toBuffer(doc));
}

describe('docx extractor: what mammoth leaves out', async () => {
  const doc = await run(docxExtractor, await numberedDocx());

  it('keeps automatic heading numbers in the text and the heading path', () => {
    expect(doc.sections.map((s) => s.headingPath)).toContainEqual(['2 Requirements', '2.1 Scope']);
    expect(allText(doc)).toContain('1 Introduction');
  });

  it('keeps automatic list numbers', () => {
    expect(allText(doc)).toContain('1. Unpack the box\n2. Plug it in\n3. Switch it on');
  });

  it('keeps paragraphs inside a table cell apart', () => {
    expect(allText(doc)).toContain('Address | 1 High Street / Springfield');
  });

  it('includes page headers and footers, marked by their heading path', () => {
    expect(doc.sections[0]).toEqual({ text: 'Company Confidential', headingPath: ['Page header'] });
    expect(doc.sections.at(-1)).toEqual({
      text: 'Printed copies are uncontrolled',
      headingPath: ['Page footer'],
    });
  });

  it('keeps equations as LaTeX-like text where mammoth drops them', async () => {
    const text = allText(await run(docxExtractor, fixture('docx/docling-equations.docx')));
    expect(text).toContain('A=\\pi r^{2}');
    expect(text).toContain('E=mc^{2}');
    expect(text).toMatch(/\\sum_\{n=1\}\^\{\\infty/);
    expect(text).toMatch(/\\frac\{/);
  });
});

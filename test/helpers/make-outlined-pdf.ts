// A PDF with an outline (bookmarks) whose destinations point at pages and y
// positions, built with pdf-lib's low-level objects (it has no outline API).
import { PDFDocument, PDFName, PDFNull, type PDFPage, type PDFRef, PDFString, StandardFonts } from 'pdf-lib';

export const OUTLINED = {
  intro: 'The introduction explains why quarterly inventory matters to the warehouse team.',
  introMore: 'It continues on the second page before the methods begin.',
  methods: 'The methods section counts every pallet twice with handheld scanners.',
  results: 'The results show a shrinkage rate of two percent across all sites.',
};

/**
 * Page 1: "Introduction". Page 2: the introduction goes on, then "Methods" starts at
 * y = 515. Page 3: "Results", a child of Methods. A fourth page has no outline entry.
 */
export async function makeOutlinedPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle('Inventory Study');
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const pages: PDFPage[] = [];
  for (let i = 0; i < 4; i++) pages.push(doc.addPage([595, 842]));
  const [p1, p2, p3, p4] = pages as [PDFPage, PDFPage, PDFPage, PDFPage];
  p1.drawText('Introduction', { x: 72, y: 780, size: 18, font: bold });
  p1.drawText(OUTLINED.intro, { x: 72, y: 740, size: 11, font });
  p2.drawText(OUTLINED.introMore, { x: 72, y: 760, size: 11, font });
  p2.drawText('Methods', { x: 72, y: 500, size: 18, font: bold });
  p2.drawText(OUTLINED.methods, { x: 72, y: 470, size: 11, font });
  p3.drawText('Results', { x: 72, y: 780, size: 14, font: bold });
  p3.drawText(OUTLINED.results, { x: 72, y: 740, size: 11, font });
  p4.drawText('Appendix text that still belongs to the results.', { x: 72, y: 760, size: 11, font });

  const ctx = doc.context;
  const dest = (page: PDFPage, y: number) => ctx.obj([page.ref, PDFName.of('XYZ'), PDFNull, y, PDFNull]);
  const [root, intro, methods, results] = [ctx.nextRef(), ctx.nextRef(), ctx.nextRef(), ctx.nextRef()] as [
    PDFRef,
    PDFRef,
    PDFRef,
    PDFRef,
  ];
  ctx.assign(
    intro,
    ctx.obj({ Title: PDFString.of('Introduction'), Parent: root, Next: methods, Dest: dest(p1, 800) }),
  );
  ctx.assign(
    methods,
    ctx.obj({
      Title: PDFString.of('Methods'),
      Parent: root,
      Prev: intro,
      First: results,
      Last: results,
      Count: 1,
      Dest: dest(p2, 520),
    }),
  );
  ctx.assign(results, ctx.obj({ Title: PDFString.of('Results'), Parent: methods, Dest: dest(p3, 800) }));
  ctx.assign(root, ctx.obj({ Type: 'Outlines', First: intro, Last: methods, Count: 3 }));
  doc.catalog.set(PDFName.of('Outlines'), root);
  return doc.save();
}

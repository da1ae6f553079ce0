// Generated PDF fixtures (pdf-lib) whose exact text we know: a paged report with a
// running header/footer and a phrase on one page, and a two-column page.
import { PDFArray, PDFDocument, PDFName, PDFRef, StandardFonts } from 'pdf-lib';

/** Words of filler that differ per page, so pages are distinguishable. */
export function filler(page: number, line: number): string {
  return `Section ${page} line ${line} discusses item ${page * 100 + line} of the quarterly inventory review.`;
}

export const PHRASE = 'the zebra crossing protocol';

/** A paged report: header "ACME Quarterly Report", footer "Page n of N", PHRASE only on `phrasePage`. */
export async function makeReportPdf(pages = 10, phrasePage = 7): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle('ACME Quarterly Report');
  doc.setAuthor('Test Author');
  doc.setCreationDate(new Date('2024-05-06T07:08:09Z'));
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let p = 1; p <= pages; p++) {
    const page = doc.addPage([595, 842]);
    page.drawText('ACME Quarterly Report', { x: 72, y: 800, size: 9, font });
    for (let l = 1; l <= 12; l++) page.drawText(filler(p, l), { x: 72, y: 760 - l * 16, size: 11, font });
    // A word split over two lines with a hyphen, to check re-joining.
    page.drawText('The committee reviewed the infra-', { x: 72, y: 540, size: 11, font });
    page.drawText('structure budget in detail.', { x: 72, y: 526, size: 11, font });
    if (p === phrasePage)
      page.drawText(`Remember ${PHRASE} before leaving.`, { x: 72, y: 505, size: 11, font });
    page.drawText(`Closing remarks for section ${p} follow on the next page of this report.`, {
      x: 72,
      y: 480,
      size: 11,
      font,
    });
    page.drawText(`Page ${p} of ${pages}`, { x: 270, y: 40, size: 9, font });
  }
  return doc.save();
}

export const LEFT = ['Alpha one begins the left column', 'alpha two continues it', 'alpha three ends it'];
export const RIGHT = ['Beta one begins the right column', 'beta two continues it', 'beta three ends it'];

/** One page: a full-width title, then two columns whose lines share baselines. */
export async function makeTwoColumnPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const page = doc.addPage([595, 842]);
  page.drawText('A Study of Columns', { x: 200, y: 760, size: 18, font: bold });
  // Interleave drawing order so content-stream order does not give reading order away.
  for (let i = 0; i < 3; i++) {
    page.drawText(RIGHT[i]!, { x: 310, y: 700 - i * 14, size: 10, font });
    page.drawText(LEFT[i]!, { x: 72, y: 700 - i * 14, size: 10, font });
  }
  return doc.save();
}

/** A PDF with one blank page (no text layer), like a scan without OCR. */
export async function makeBlankPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.addPage([595, 842]);
  return doc.save();
}

/** Three pages whose second page-tree entry points at a missing object. */
export async function makePdfWithBrokenPage(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let p = 1; p <= 3; p++)
    doc.addPage([300, 300]).drawText(`Text of page ${p}`, { x: 20, y: 200, size: 12, font });
  doc.catalog.Pages().lookup(PDFName.of('Kids'), PDFArray).set(1, PDFRef.of(9999));
  return doc.save({ useObjectStreams: false });
}

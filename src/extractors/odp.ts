// ODP extractor: one section per slide (draw:page) with its number as the page, the
// title frame as heading, text frames and tables in document order, and speaker
// notes (presentation:notes) as their own section, its heading path ending in
// "Speaker notes".
import { SluiceError } from '../errors.ts';
import { inlineText, odfTableRows, openOdf } from './odf.ts';
import { checkTextSize } from './ooxml.ts';
import { checkAborted } from './text-input.ts';
import type { ExtractedDocument, ExtractInput, Extractor, Section } from './types.ts';
import { find, kids, type XmlElement } from './xml.ts';

export const ODP_MIME = 'application/vnd.oasis.opendocument.presentation';

/** Lines of a text container (text-box, notes frame): paragraphs and list items. */
function lines(el: XmlElement, depth = 0): string[] {
  const out: string[] = [];
  for (const k of kids(el)) {
    if (k.name === 'p' || k.name === 'h') {
      const t = inlineText(k).replace(/\s+/g, ' ').trim();
      if (t) out.push(depth ? `${'  '.repeat(depth - 1)}- ${t}` : t);
    } else if (k.name === 'list') for (const item of kids(k)) out.push(...lines(item, depth + 1));
    else if (k.name !== 'notes') out.push(...lines(k, depth));
  }
  return out;
}

function slideText(page: XmlElement): { title?: string; body: string[] } {
  let title: string | undefined;
  const body: string[] = [];
  const visit = (el: XmlElement): void => {
    for (const k of kids(el)) {
      if (k.name === 'notes') continue;
      if (k.name === 'frame') {
        const cls = k.attrs['class'];
        const table = find(k, 'table');
        if (table) {
          body.push(
            odfTableRows(table, (c) => lines(c).join(' '), { cells: 100_000 })
              .map((r) => r.cells.join(' | '))
              .join('\n'),
          );
          continue;
        }
        const text = lines(k);
        if ((cls === 'title' || cls === 'subtitle') && title === undefined && cls === 'title')
          title = text.join(' ');
        else if (text.length) body.push(text.join('\n'));
      } else visit(k);
    }
  };
  visit(page);
  return { ...(title ? { title } : {}), body };
}

export const odpExtractor: Extractor = {
  name: 'odp',
  version: 1,
  mimeTypes: [ODP_MIME],
  async extract(input: ExtractInput): Promise<ExtractedDocument> {
    const pkg = await openOdf(input, 'ODP', ODP_MIME);
    const body = find(pkg.content, 'presentation');
    if (!body) throw new SluiceError('CORRUPT_FILE', 'ODP has no presentation body');
    const sections: Section[] = [];
    const pages = kids(body, 'page');
    pages.forEach((page, i) => {
      checkAborted(input.signal);
      const { title, body: parts } = slideText(page);
      const heading = title ?? `Slide ${i + 1}`;
      const text = [title, ...parts].filter(Boolean).join('\n\n');
      if (text) sections.push({ text, headingPath: [heading], page: i + 1 });
      const notesEl = kids(page, 'notes')[0];
      const notes = notesEl ? lines(notesEl).join('\n') : '';
      if (notes)
        sections.push({
          text: notes,
          headingPath: [heading, 'Speaker notes'],
          page: i + 1,
        });
    });
    checkTextSize(
      sections.reduce((n, s) => n + s.text.length, 0),
      input.limits.maxTextChars,
      'ODP',
    );
    return {
      ...(pkg.metadata['title'] ? { title: pkg.metadata['title'] } : {}),
      metadata: { ...pkg.metadata, slideCount: pages.length },
      sections,
    };
  },
};

// ODT extractor: headings (text:h, and paragraphs in the Title style) open sections
// with a heading path, lists keep their numbers ("1.", "2.") or bullets, tables are
// " | " rows with spans repeated, and footnotes/endnotes are gathered into a final
// "Notes" section, each marked by its citation.
import { inlineText, type OdfPackage, odfTableRows, openOdf } from './odf.ts';
import { checkTextSize } from './ooxml.ts';
import { checkAborted } from './text-input.ts';
import type { ExtractedDocument, ExtractInput, Extractor, Section } from './types.ts';
import { find, kids, type XmlElement } from './xml.ts';

export const ODT_MIME = 'application/vnd.oasis.opendocument.text';
const SKIP = new Set([
  'sequence-decls',
  'tracked-changes',
  'table-of-content',
  'alphabetical-index',
  'variable-decls',
  'user-field-decls',
  'forms',
]);

const tidyLine = (s: string): string =>
  s
    .replace(/[ \t]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .trim();

class Walker {
  readonly sections: Section[] = [];
  readonly notes: string[] = [];
  private path: string[] = [];
  private paras: string[] = [];
  private readonly pkg: OdfPackage;
  constructor(pkg: OdfPackage) {
    this.pkg = pkg;
  }

  flush(): void {
    if (this.paras.length)
      this.sections.push({
        text: this.paras.join('\n\n'),
        ...(this.path.length ? { headingPath: this.path.filter(Boolean) } : {}),
      });
    this.paras = [];
  }

  heading(level: number, text: string): void {
    this.flush();
    this.path = this.path.slice(0, level - 1);
    while (this.path.length < level - 1) this.path.push('');
    this.path.push(text);
    this.paras.push(text);
  }

  private styleIs(el: XmlElement, name: string): boolean {
    const style = el.attrs['style-name'] ?? '';
    return style === name || this.pkg.parents.get(style) === name;
  }

  block(el: XmlElement): void {
    if (SKIP.has(el.name)) return;
    if (el.name === 'h') {
      const text = tidyLine(inlineText(el, this.notes));
      if (text) this.heading(Math.min(Math.max(Number(el.attrs['outline-level'] ?? 1) || 1, 1), 10), text);
    } else if (el.name === 'p') {
      const text = tidyLine(inlineText(el, this.notes));
      if (!text) return;
      if (this.styleIs(el, 'Title')) this.heading(1, text);
      else this.paras.push(text);
    } else if (el.name === 'list') {
      const lines = this.list(el, 1, el.attrs['style-name'] ?? '');
      if (lines.length) this.paras.push(lines.join('\n'));
    } else if (el.name === 'table') {
      const rows = odfTableRows(el, (c) => this.cellText(c), { cells: 1_000_000 });
      const text = rows.map((r) => r.cells.join(' | ')).join('\n');
      if (text.trim()) this.paras.push(text);
    } else for (const k of kids(el)) this.block(k);
  }

  private cellText(cell: XmlElement): string {
    return kids(cell)
      .map((k) => (k.name === 'p' || k.name === 'h' ? tidyLine(inlineText(k, this.notes)) : ''))
      .filter(Boolean)
      .join(' ');
  }

  private list(el: XmlElement, level: number, style: string): string[] {
    const numbered = this.pkg.numbered.get(el.attrs['style-name'] ?? style)?.has(level) ?? false;
    const lines: string[] = [];
    let n = Number(el.attrs['start-value'] ?? 1) || 1;
    for (const item of kids(el).filter((k) => k.name === 'list-item' || k.name === 'list-header')) {
      const indent = '  '.repeat(Math.min(level - 1, 8));
      for (const k of kids(item)) {
        if (k.name === 'list') lines.push(...this.list(k, level + 1, el.attrs['style-name'] ?? style));
        else if (k.name === 'p' || k.name === 'h') {
          const text = tidyLine(inlineText(k, this.notes));
          if (text) lines.push(`${indent}${numbered ? `${n}.` : '-'} ${text}`);
        }
      }
      n++;
    }
    return lines;
  }
}

export const odtExtractor: Extractor = {
  name: 'odt',
  version: 1,
  mimeTypes: [ODT_MIME],
  async extract(input: ExtractInput): Promise<ExtractedDocument> {
    const pkg = await openOdf(input, 'ODT', ODT_MIME);
    checkAborted(input.signal);
    const body = find(pkg.content, 'text');
    const walker = new Walker(pkg);
    for (const el of body ? kids(body) : []) walker.block(el);
    walker.flush();
    const sections = walker.sections;
    if (walker.notes.length) sections.push({ text: walker.notes.join('\n'), headingPath: ['Notes'] });
    checkTextSize(
      sections.reduce((n, s) => n + s.text.length, 0),
      input.limits.maxTextChars,
      'ODT',
    );
    const title = pkg.metadata['title'] ?? sections.find((s) => s.headingPath)?.headingPath?.[0];
    return { ...(title ? { title } : {}), metadata: pkg.metadata, sections };
  },
};

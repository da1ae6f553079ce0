// EPUB extractor: the package (OPF) found through META-INF/container.xml, chapters
// read in spine order through the HTML extractor, each chapter's title (from the
// EPUB 3 nav document or the EPUB 2 NCX) leading its heading path, and the book's
// Dublin Core metadata (title, author, language) as document metadata. XHTML parts
// may carry a DOCTYPE (EPUB 2 requires one) but never entity declarations.
import { SluiceError } from '../errors.ts';
import { htmlExtractor } from './html.ts';
import { checkTextSize, openPackage } from './ooxml.ts';
import { checkAborted } from './text-input.ts';
import type { ExtractedDocument, ExtractInput, Extractor, Section } from './types.ts';
import { find, findAll, kids, parseXml, textOf, type XmlElement } from './xml.ts';
import { resolvePart, type ZipArchive } from './zip-read.ts';

export const EPUB_MIME = 'application/epub+zip';
const FORMAT = 'EPUB';
const CHAPTER_TYPES = new Set(['application/xhtml+xml', 'text/html', 'application/xml']);

/** A part's text, refusing entity declarations (a DOCTYPE alone is harmless: htmlparser2 never loads DTDs). */
function readLenient(zip: ZipArchive, name: string): Buffer {
  const buf = zip.read(name);
  if (buf.includes('<!ENTITY') || buf.includes('<!entity'))
    throw new SluiceError(
      'CORRUPT_FILE',
      `EPUB part ${name} declares XML entities (refused: entity bombs and XXE)`,
    );
  return buf;
}
const parsePart = async (zip: ZipArchive, name: string): Promise<XmlElement> =>
  parseXml(
    readLenient(zip, name)
      .toString('utf8')
      .replace(/^\uFEFF/, ''),
    `EPUB part ${name}`,
  );

const stripFragment = (href: string): string => href.replace(/#.*$/, '');
const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** Chapter titles by part path, from the nav document (EPUB 3) or the NCX (EPUB 2). */
async function tocTitles(
  zip: ZipArchive,
  opfPath: string,
  manifest: XmlElement[],
  spine: XmlElement | undefined,
) {
  const titles = new Map<string, string>();
  const add = (from: string, href: string | undefined, label: string): void => {
    if (!href || !label) return;
    const part = resolvePart(from, stripFragment(href));
    if (!titles.has(part)) titles.set(part, label);
  };
  const nav = manifest.find((m) => (m.attrs['properties'] ?? '').split(/\s+/).includes('nav'));
  const navPath = nav?.attrs['href'] && resolvePart(opfPath, nav.attrs['href']);
  if (navPath && zip.has(navPath)) {
    const doc = await parsePart(zip, navPath);
    const toc = findAll(doc, 'nav').find((n) => n.attrs['type'] === 'toc') ?? find(doc, 'nav');
    for (const a of toc ? findAll(toc, 'a') : []) add(navPath, a.attrs['href'], squash(textOf(a)));
  }
  const ncxId = spine?.attrs['toc'];
  const ncx = manifest.find(
    (m) => m.attrs['id'] === ncxId || m.attrs['media-type'] === 'application/x-dtbncx+xml',
  );
  const ncxPath = ncx?.attrs['href'] && resolvePart(opfPath, ncx.attrs['href']);
  if (titles.size === 0 && ncxPath && zip.has(ncxPath)) {
    for (const point of findAll(await parsePart(zip, ncxPath), 'navPoint')) {
      const label = find(point, 'navLabel');
      add(ncxPath, find(point, 'content')?.attrs['src'], label ? squash(textOf(label)) : '');
      // Nested points belong to the same chapter file or later ones: walk them too.
      for (const inner of findAll(point, 'navPoint')) {
        const l = find(inner, 'navLabel');
        add(ncxPath, find(inner, 'content')?.attrs['src'], l ? squash(textOf(l)) : '');
      }
    }
  }
  return titles;
}

function bookMetadata(opf: XmlElement): Record<string, string | null> {
  const meta = find(opf, 'metadata');
  const dc = (name: string): string | null => {
    const el = meta && kids(meta, name)[0];
    return el ? squash(textOf(el)) || null : null;
  };
  const authors = meta
    ? kids(meta, 'creator')
        .map((c) => squash(textOf(c)))
        .filter(Boolean)
    : [];
  return {
    title: dc('title'),
    author: authors.join('; ') || null,
    language: dc('language'),
    publisher: dc('publisher'),
    date: dc('date'),
  };
}

async function chapterSections(input: ExtractInput, bytes: Buffer, budget: number): Promise<Section[]> {
  try {
    const doc = await htmlExtractor.extract({
      bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      mime: 'text/html',
      limits: { ...input.limits, maxTextChars: budget },
      ...(input.signal ? { signal: input.signal } : {}),
    });
    return doc.sections;
  } catch (err) {
    // A cover or image-only page has no text; the book still does.
    if ((err as { code?: string }).code === 'NO_TEXT') return [];
    throw err;
  }
}

export const epubExtractor: Extractor = {
  name: 'epub',
  version: 1,
  mimeTypes: [EPUB_MIME],
  async extract(input: ExtractInput): Promise<ExtractedDocument> {
    const zip = openPackage(input, FORMAT);
    const container = 'META-INF/container.xml';
    if (!zip.has(container)) throw new SluiceError('CORRUPT_FILE', 'EPUB has no META-INF/container.xml');
    const rootfile = find(await parsePart(zip, container), 'rootfile')?.attrs['full-path'];
    if (!rootfile || !zip.has(rootfile))
      throw new SluiceError('CORRUPT_FILE', 'EPUB container names no package file');
    const opf = await parsePart(zip, rootfile);
    const manifestEl = find(opf, 'manifest');
    const manifest = manifestEl ? kids(manifestEl, 'item') : [];
    const spine = find(opf, 'spine');
    const byId = new Map(manifest.map((m) => [m.attrs['id'] ?? '', m]));
    const titles = await tocTitles(zip, rootfile, manifest, spine);
    const sections: Section[] = [];
    let chars = 0;
    const chapters: string[] = [];
    for (const ref of spine ? kids(spine, 'itemref') : []) {
      checkAborted(input.signal);
      const item = byId.get(ref.attrs['idref'] ?? '');
      const href = item?.attrs['href'];
      if (!item || !href || !CHAPTER_TYPES.has(item.attrs['media-type'] ?? '')) continue;
      const part = resolvePart(rootfile, stripFragment(href));
      if (!zip.has(part)) continue;
      const found = await chapterSections(
        input,
        readLenient(zip, part),
        input.limits.maxTextChars - chars + 1,
      );
      const chapter = titles.get(part) ?? found.find((s) => s.headingPath?.length)?.headingPath?.[0];
      if (chapter && found.length) chapters.push(chapter);
      for (const s of found) {
        const path = s.headingPath ?? [];
        const headingPath = chapter && !(path[0] ?? '').includes(chapter) ? [chapter, ...path] : path;
        sections.push({ text: s.text, ...(headingPath.length ? { headingPath } : {}) });
        chars += s.text.length;
      }
      if (chars > input.limits.maxTextChars) break;
    }
    checkTextSize(chars, input.limits.maxTextChars, FORMAT);
    const book = bookMetadata(opf);
    const title = book['title'];
    return { ...(title ? { title } : {}), metadata: { ...book, chapters: chapters.length }, sections };
  },
};

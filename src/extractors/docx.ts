// DOCX extractor: zip-guard first, then mammoth to HTML, then a structural walk into
// sections with heading paths (lists, tables as ` | ` rows, footnotes appended,
// comments ignored). Hostile archives fail with codes before mammoth sees them.
import type { Cheerio, CheerioAPI } from 'cheerio';
// Type only (erased): the node type cheerio selections hold, which cheerio does not re-export.
import type { AnyNode } from 'domhandler';
import { SluiceError } from '../errors.ts';
import { headersAndFooters, numberingLabels, withEquationsAsText } from './docx-extras.ts';
import { encryptedError, isEncryptedOoxml } from './ooxml.ts';
import type { ExtractedDocument, ExtractInput, ExtractLimits, Extractor, Section } from './types.ts';
import { parseXml } from './xml.ts';
import { inspectZip, type ZipEntry } from './zip-guard.ts';
import { inflateEntry, openZip } from './zip-read.ts';

const DOCX_MIME = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/**
 * Refuse XML parts that declare a DTD. OOXML never needs one (ECMA-376 forbids DTDs
 * in package parts), and a DTD is how entity-expansion bombs and external entities
 * (XXE) are delivered, so we reject instead of relying on each parser's defaults.
 * Returns docProps/core.xml for metadata.
 */
function checkXmlParts(bytes: Uint8Array, entries: readonly ZipEntry[]): string | undefined {
  let core: string | undefined;
  for (const e of entries) {
    if (!/\.(xml|rels)$/i.test(e.name)) continue;
    const xml = inflateEntry(bytes, e).toString('latin1');
    if (/<!(DOCTYPE|ENTITY)/i.test(xml.replace(/\0/g, ''))) {
      throw new SluiceError(
        'CORRUPT_FILE',
        `DOCX part ${e.name} declares a DTD/entities (not allowed in OOXML)`,
      );
    }
    if (e.name === 'docProps/core.xml') core = Buffer.from(xml, 'latin1').toString('utf8');
  }
  return core;
}

function coreProp(core: string | undefined, tag: string): string | undefined {
  const m = core ? new RegExp(`<${tag}[^>]*>([^<]*)</${tag}>`).exec(core) : null;
  const v = m?.[1]?.trim();
  return v
    ? v
        .replace(/&amp;/g, '&')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
    : undefined;
}

const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** Walks mammoth's HTML into sections; a heading starts a new section with its path. */
function walkHtml(
  $: CheerioAPI,
  labels: Map<string, string[]>,
): { sections: Section[]; firstHeading?: string } {
  // Word's automatic numbers ("2.1", "3.") are not in mammoth's HTML: take them in
  // document order from the labels computed from numbering.xml.
  const labelFor = (text: string): string | undefined => labels.get(text)?.shift();
  const sections: Section[] = [];
  const path: string[] = [];
  let paras: string[] = [];
  let firstHeading: string | undefined;
  const flush = (): void => {
    if (paras.length)
      sections.push({ text: paras.join('\n\n'), ...(path.length ? { headingPath: [...path] } : {}) });
    paras = [];
  };
  const text = (el: Cheerio<AnyNode>): string => {
    const c = el.clone();
    c.find('a[href^="#footnote-ref"], a[href^="#endnote-ref"]').remove(); // "↑" back-links
    c.find('br').replaceWith('\n');
    return squash(c.text());
  };
  const list = (el: Cheerio<AnyNode>, depth: number): string[] =>
    el
      .children('li')
      .toArray()
      .flatMap((li, i) => {
        const item = $(li);
        const nested = item.children('ul, ol');
        const own = text(item.clone().children('ul, ol').remove().end());
        const label = own && (labelFor(own) ?? (el.is('ol') ? `${i + 1}.` : '-'));
        const lines = own ? [`${'  '.repeat(depth)}${label} ${own}`] : [];
        return [...lines, ...nested.toArray().flatMap((n) => list($(n), depth + 1))];
      });
  // Merged cells are repeated into every row/column they span, so each row reads on its own.
  const table = (el: Cheerio<AnyNode>): string => {
    const carry: Array<{ text: string; rows: number } | undefined> = [];
    const rows: string[] = [];
    for (const tr of el.find('tr').toArray()) {
      const cells = $(tr).children('td, th').toArray();
      const row: string[] = [];
      for (let col = 0; cells.length > 0 || carry.slice(col).some(Boolean); col++) {
        const held = carry[col];
        if (held) {
          row.push(held.text);
          carry[col] = held.rows > 1 ? { text: held.text, rows: held.rows - 1 } : undefined;
          continue;
        }
        const c = cells.shift();
        if (!c) continue;
        // Paragraphs inside a cell stay apart (" / "), not run together.
        const parts = $(c)
          .children('p, ul, ol, h1, h2, h3, h4, h5, h6')
          .toArray()
          .map((k) => text($(k)))
          .filter(Boolean);
        const cellText = parts.length > 1 ? parts.join(' / ') : text($(c));
        const span = Math.min(Number($(c).attr('colspan') ?? 1) || 1, 64);
        const down = Math.min(Number($(c).attr('rowspan') ?? 1) || 1, 1000);
        for (let k = 0; k < span; k++) {
          row.push(cellText);
          if (down > 1) carry[col + k] = { text: cellText, rows: down - 1 };
        }
        col += span - 1;
      }
      if (row.join('').trim()) rows.push(row.join(' | '));
    }
    return rows.join('\n');
  };
  for (const node of $('body').children().toArray()) {
    const el = $(node);
    const tag = node.type === 'tag' ? node.tagName.toLowerCase() : '';
    const h = /^h([1-6])$/.exec(tag);
    if (h) {
      const heading = text(el);
      const number = heading ? labelFor(heading) : undefined;
      const title = number ? `${number} ${heading}` : heading;
      if (!title) continue;
      flush();
      path.splice(Number(h[1]) - 1);
      while (path.length < Number(h[1]) - 1) path.push('');
      path.push(title);
      firstHeading ??= title;
      paras.push(title);
    } else if (tag === 'ul' || tag === 'ol') {
      const isNotes = el.children('li[id^="footnote-"], li[id^="endnote-"]').length > 0;
      if (isNotes) {
        flush();
        const notes = el
          .children('li')
          .toArray()
          .map((li, i) => `[${i + 1}] ${text($(li))}`);
        sections.push({ text: notes.join('\n'), headingPath: ['Notes'] });
      } else paras.push(list(el, 0).join('\n'));
    } else if (tag === 'table') {
      paras.push(table(el));
    } else {
      paras.push(text(el));
    }
    paras = paras.filter(Boolean);
  }
  flush();
  // Sparse paths ("", "B") arise when a document skips heading levels; drop the gaps.
  for (const s of sections) if (s.headingPath) s.headingPath = s.headingPath.filter(Boolean);
  return { sections, ...(firstHeading ? { firstHeading } : {}) };
}

/** Numbering labels, headers/footers and an equation-preserving copy of the package (see docx-extras.ts). */
async function readExtras(bytes: Uint8Array, limits: ExtractLimits) {
  const zip = openZip(bytes, limits, 'DOCX');
  const name = 'word/document.xml';
  const xml = zip.has(name) ? zip.readXml(name) : '';
  const document = await parseXml(xml, `DOCX part ${name}`);
  const { headers, footers } = await headersAndFooters(zip);
  return {
    labels: await numberingLabels(zip, document),
    headers,
    footers,
    rewritten: await withEquationsAsText(zip, xml),
  };
}

/** A DOCX extractor: mammoth (external file access off) behind the zip guard. */
export function createDocxExtractor(): Extractor {
  return {
    name: 'docx',
    version: 2,
    mimeTypes: [DOCX_MIME],
    async extract({ bytes, limits, signal }: ExtractInput): Promise<ExtractedDocument> {
      if (bytes.byteLength > limits.maxBytes) {
        throw new SluiceError('TOO_LARGE', `DOCX is ${bytes.byteLength} bytes, limit ${limits.maxBytes}`);
      }
      if (isEncryptedOoxml(bytes)) throw encryptedError('DOCX');
      if (bytes[0] !== 0x50 || bytes[1] !== 0x4b)
        throw new SluiceError('CORRUPT_FILE', 'not a DOCX file (no ZIP signature)');
      const entries = inspectZip(bytes, limits);
      if (!entries.some((e) => e.name === '[Content_Types].xml')) {
        throw new SluiceError('CORRUPT_FILE', 'ZIP has no [Content_Types].xml: not an Office document');
      }
      const core = checkXmlParts(bytes, entries);
      const extras = await readExtras(bytes, limits);
      signal?.throwIfAborted();
      const mammoth = (await import('mammoth')).default;
      let html: string;
      try {
        const result = await mammoth.convertToHtml(
          { buffer: extras.rewritten ?? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
          {
            externalFileAccess: false, // CVE-2025-11849: never follow linked files
            ignoreEmptyParagraphs: true,
            // Images would be inlined as base64 data URIs; only their alt text matters here.
            convertImage: mammoth.images.imgElement(async () => ({ src: '' })),
          },
        );
        html = result.value;
      } catch (err) {
        throw new SluiceError('CORRUPT_FILE', `DOCX cannot be read: ${(err as Error)?.message ?? err}`, {
          cause: err,
        });
      }
      signal?.throwIfAborted();
      const { load } = await import('cheerio');
      const walked = walkHtml(load(`<body>${html}</body>`), extras.labels);
      const firstHeading = walked.firstHeading;
      const sections = [
        ...extras.headers.map((text): Section => ({ text, headingPath: ['Page header'] })),
        ...walked.sections,
        ...extras.footers.map((text): Section => ({ text, headingPath: ['Page footer'] })),
      ];
      const chars = sections.reduce((n, s) => n + s.text.length, 0);
      if (chars > limits.maxTextChars)
        throw new SluiceError('TOO_LARGE', `DOCX text exceeds ${limits.maxTextChars} characters`);
      if (chars === 0) throw new SluiceError('NO_TEXT', 'DOCX contains no text');
      const title = coreProp(core, 'dc:title') ?? firstHeading;
      const metadata = {
        title: coreProp(core, 'dc:title') ?? null,
        author: coreProp(core, 'dc:creator') ?? null,
        creationDate: coreProp(core, 'dcterms:created') ?? null,
      };
      return { ...(title ? { title } : {}), metadata, sections };
    },
  };
}

/** The default DOCX extractor registered in index.ts. */
export const docxExtractor: Extractor = createDocxExtractor();

// PPTX extractor: one section per slide in presentation order, the slide number as
// its page, the title placeholder as heading, shapes in reading order (top to
// bottom, left to right; groups recursed), tables as " | " rows, speaker notes as
// their own section marked by a heading path ending in "Speaker notes". Hidden
// slides are skipped and listed in the metadata.
import { SluiceError } from '../errors.ts';
import { tableRows, textBodyLines } from './drawingml.ts';
import { checkTextSize, coreProperties, openPackage, readRels } from './ooxml.ts';
import { checkAborted } from './text-input.ts';
import type { ExtractedDocument, ExtractInput, Extractor, Section } from './types.ts';
import { find, findAll, kids, parseXml, type XmlElement } from './xml.ts';
import type { ZipArchive } from './zip-read.ts';

export const PPTX_MIME = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
const FORMAT = 'PPTX';
/** Placeholders that repeat on every slide and carry no content. */
const CHROME = new Set(['sldNum', 'dt', 'ftr', 'hdr', 'sldImg']);

const placeholderType = (shape: XmlElement): string | undefined => {
  const nv = kids(shape).find((k) => k.name.startsWith('nv'));
  const ph = nv && find(nv, 'ph');
  return ph ? (ph.attrs['type'] ?? 'body') : undefined;
};

/** Top-left corner of a shape (its xfrm offset), for reading order; unknown → top. */
function position(shape: XmlElement): { x: number; y: number } {
  const props = kids(shape).find((k) => k.name === 'spPr' || k.name === 'grpSpPr' || k.name === 'xfrm');
  const off = props && find(props, 'off');
  return { x: Number(off?.attrs['x'] ?? 0) || 0, y: Number(off?.attrs['y'] ?? 0) || 0 };
}

/** Shapes in reading order: top to bottom, then left to right (shapes whose tops are within ~1 cm share a line). */
function readingOrder(shapes: XmlElement[]): XmlElement[] {
  const LINE_EMU = 360_000;
  const at = new Map(shapes.map((s) => [s, position(s)]));
  return [...shapes].sort((a, b) => {
    const pa = at.get(a)!;
    const pb = at.get(b)!;
    return Math.abs(pa.y - pb.y) > LINE_EMU ? pa.y - pb.y : pa.x - pb.x;
  });
}

/** Title and body lines of a shape tree, in reading order. */
function shapeText(tree: XmlElement, out: { title?: string; lines: string[] }): void {
  for (const shape of readingOrder(kids(tree))) {
    if (shape.name === 'grpSp') shapeText(shape, out);
    else if (shape.name === 'sp') {
      const type = placeholderType(shape);
      if (type && CHROME.has(type)) continue;
      const body = kids(shape, 'txBody')[0];
      const lines = body ? textBodyLines(body) : [];
      if ((type === 'title' || type === 'ctrTitle') && out.title === undefined && lines.length) {
        out.title = lines.join(' ').replace(/\s+/g, ' ');
      } else if (lines.length) out.lines.push(lines.join('\n'));
    } else if (shape.name === 'graphicFrame') {
      for (const tbl of findAll(shape, 'tbl')) out.lines.push(tableRows(tbl).join('\n'));
    } else if (shape.name === 'pic') {
      const alt = find(shape, 'cNvPr')?.attrs['descr']?.trim();
      if (alt) out.lines.push(`[image: ${alt.replace(/\s+/g, ' ')}]`);
    }
  }
}

async function slideParts(zip: ZipArchive): Promise<string[]> {
  const name = 'ppt/presentation.xml';
  if (!zip.has(name))
    throw new SluiceError('CORRUPT_FILE', 'PPTX has no ppt/presentation.xml: not a presentation');
  const pres = await parseXml(zip.readXml(name), name);
  const rels = await readRels(zip, name);
  const list = find(pres, 'sldIdLst');
  return (list ? kids(list, 'sldId') : []).flatMap((s) => {
    const target = rels.get(s.attrs['id'] ?? '');
    return target && zip.has(target) ? [target] : [];
  });
}

async function notesOf(zip: ZipArchive, slidePart: string): Promise<string> {
  const rels = await readRels(zip, slidePart);
  const notes = [...rels.values()].find((t) => /notesSlides\/[^/]+\.xml$/.test(t) && zip.has(t));
  if (!notes) return '';
  const tree = find(await parseXml(zip.readXml(notes), notes), 'spTree');
  const out: { lines: string[] } = { lines: [] };
  if (tree) shapeText(tree, out);
  return out.lines.join('\n').trim();
}

export const pptxExtractor: Extractor = {
  name: 'pptx',
  version: 1,
  mimeTypes: [PPTX_MIME],
  async extract(input: ExtractInput): Promise<ExtractedDocument> {
    const zip = openPackage(input, FORMAT);
    const sections: Section[] = [];
    const hiddenSlides: number[] = [];
    const parts = await slideParts(zip);
    let chars = 0;
    for (const [i, part] of parts.entries()) {
      checkAborted(input.signal);
      const page = i + 1;
      const slide = await parseXml(zip.readXml(part), part);
      const root = kids(slide)[0];
      if (root?.attrs['show'] === '0' || root?.attrs['show'] === 'false') {
        hiddenSlides.push(page);
        continue;
      }
      const tree = find(slide, 'spTree');
      const out: { title?: string; lines: string[] } = { lines: [] };
      if (tree) shapeText(tree, out);
      const heading = out.title ?? `Slide ${page}`;
      const body = [out.title, ...out.lines].filter(Boolean).join('\n\n');
      if (body) sections.push({ text: body, headingPath: [heading], page });
      const notes = await notesOf(zip, part);
      if (notes) sections.push({ text: notes, headingPath: [heading, 'Speaker notes'], page });
      chars += body.length + notes.length;
      if (chars > input.limits.maxTextChars) break;
    }
    checkTextSize(chars, input.limits.maxTextChars, FORMAT);
    const core = await coreProperties(zip);
    const title = core['title'] ?? sections[0]?.headingPath?.[0];
    return {
      ...(title ? { title } : {}),
      metadata: { ...core, slideCount: parts.length, ...(hiddenSlides.length ? { hiddenSlides } : {}) },
      sections,
    };
  },
};

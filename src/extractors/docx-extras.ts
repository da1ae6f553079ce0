// What mammoth leaves out of a DOCX, read from the package directly: automatic
// numbering labels ("2.1", "3.", "a)") computed from numbering.xml and styles.xml,
// page headers and footers, and equations (OMML), which are rewritten into text
// runs so mammoth keeps them in place.
import { ALPHA, roman } from './drawingml.ts';
import { ommlToText } from './omml.ts';
import { find, findAll, kids, parseXml, textOf, type XmlElement } from './xml.ts';
import type { ZipArchive } from './zip-read.ts';
import { writeStoredZip } from './zip-write.ts';

interface Level {
  start: number;
  fmt: string;
  text: string;
}

const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();
const attr = (el: XmlElement | undefined, name: string): string | undefined =>
  el ? kids(el, name)[0]?.attrs['val'] : undefined;
const partXml = async (zip: ZipArchive, name: string): Promise<XmlElement | undefined> =>
  zip.has(name) ? parseXml(zip.readXml(name), `DOCX part ${name}`) : undefined;

/** Paragraph text as Word shows it (runs, tabs; deleted text and field codes left out). */
export function paragraphText(p: XmlElement): string {
  let s = '';
  for (const t of findAll(p, 't')) s += textOf(t);
  return squash(s);
}

function formatNumber(n: number, fmt: string): string {
  switch (fmt) {
    case 'lowerLetter':
    case 'upperLetter':
      return ALPHA(n, fmt === 'upperLetter');
    case 'lowerRoman':
      return roman(n);
    case 'upperRoman':
      return roman(n).toUpperCase();
    default:
      return String(n);
  }
}

/**
 * Numbering labels of numbered paragraphs, keyed by paragraph text (in document
 * order, so repeated texts take their labels in turn). Bullets get no label.
 */
export async function numberingLabels(zip: ZipArchive, document: XmlElement): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const numbering = await partXml(zip, 'word/numbering.xml');
  if (!numbering) return out;
  const abstract = new Map<string, Map<number, Level>>();
  for (const a of findAll(numbering, 'abstractNum')) {
    const levels = new Map<number, Level>();
    for (const lvl of kids(a, 'lvl')) {
      levels.set(Number(lvl.attrs['ilvl'] ?? 0), {
        start: Number(attr(lvl, 'start') ?? 1),
        fmt: attr(lvl, 'numFmt') ?? 'decimal',
        text: attr(lvl, 'lvlText') ?? '',
      });
    }
    abstract.set(a.attrs['abstractNumId'] ?? '', levels);
  }
  const nums = new Map<string, string>();
  for (const n of findAll(numbering, 'num')) nums.set(n.attrs['numId'] ?? '', attr(n, 'abstractNumId') ?? '');
  const styleNum = new Map<string, { numId?: string; ilvl?: string; basedOn?: string }>();
  const styles = await partXml(zip, 'word/styles.xml');
  for (const st of styles ? findAll(styles, 'style') : []) {
    const numPr = find(st, 'numPr');
    styleNum.set(st.attrs['styleId'] ?? '', {
      ...(numPr ? { numId: attr(numPr, 'numId'), ilvl: attr(numPr, 'ilvl') } : {}),
      ...(attr(st, 'basedOn') ? { basedOn: attr(st, 'basedOn') } : {}),
    } as { numId?: string; ilvl?: string; basedOn?: string });
  }
  const fromStyle = (id: string | undefined): { numId?: string; ilvl?: string } => {
    for (let i = 0, s = id; s && i < 20; i++) {
      const st = styleNum.get(s);
      if (st?.numId) return st;
      s = st?.basedOn;
    }
    return {};
  };
  const counters = new Map<string, number[]>();
  const body = find(document, 'body');
  for (const p of body ? findAll(body, 'p') : []) {
    const pPr = kids(p, 'pPr')[0];
    const direct = pPr && kids(pPr, 'numPr')[0];
    const styled = fromStyle(attr(pPr, 'pStyle'));
    const numId = attr(direct, 'numId') ?? styled.numId;
    const ilvl = Number(attr(direct, 'ilvl') ?? styled.ilvl ?? 0);
    const abs = numId && numId !== '0' ? abstract.get(nums.get(numId) ?? '') : undefined;
    const level = abs?.get(ilvl);
    if (!abs || !level) continue;
    const key = nums.get(numId!)!;
    const c = counters.get(key) ?? [];
    c[ilvl] = (c[ilvl] ?? level.start - 1) + 1;
    c.length = ilvl + 1;
    counters.set(key, c);
    if (level.fmt === 'bullet' || level.fmt === 'none') continue;
    const label = level.text.replace(/%(\d)/g, (_, d: string) => {
      const k = Number(d) - 1;
      return formatNumber(c[k] ?? abs.get(k)?.start ?? 1, abs.get(k)?.fmt ?? 'decimal');
    });
    const text = paragraphText(p);
    if (!text || !label.trim()) continue;
    out.set(text, [...(out.get(text) ?? []), label.trim()]);
  }
  return out;
}

/** Texts of page headers and footers, each distinct text once, in part order. */
export async function headersAndFooters(zip: ZipArchive): Promise<{ headers: string[]; footers: string[] }> {
  const read = async (re: RegExp): Promise<string[]> => {
    const seen = new Set<string>();
    for (const name of [...zip.entries.keys()].filter((n) => re.test(n)).sort()) {
      const root = await partXml(zip, name);
      const text = root ? findAll(root, 'p').map(paragraphText).filter(Boolean).join('\n') : '';
      if (text) seen.add(text);
    }
    return [...seen];
  };
  return { headers: await read(/^word\/header\d*\.xml$/), footers: await read(/^word\/footer\d*\.xml$/) };
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const MATH = /<m:oMathPara\b[\s\S]*?<\/m:oMathPara>|<m:oMath\b[\s\S]*?<\/m:oMath>/g;

/**
 * The package with every equation in word/document.xml replaced by a text run of
 * its LaTeX-like rendering, or undefined when there are none.
 */
export async function withEquationsAsText(zip: ZipArchive, documentXml: string): Promise<Buffer | undefined> {
  if (!documentXml.includes('<m:oMath')) return undefined;
  const parts: string[] = [];
  let last = 0;
  for (const m of documentXml.matchAll(MATH)) {
    const fragment = await parseXml(m[0], 'DOCX equation');
    const maths = findAll(fragment, 'oMath');
    const latex = (maths.length ? maths : [fragment]).map((x) => ommlToText(x).trim()).join(' ');
    parts.push(
      documentXml.slice(last, m.index),
      `<w:r><w:t xml:space="preserve"> ${escapeXml(latex)} </w:t></w:r>`,
    );
    last = m.index + m[0].length;
  }
  parts.push(documentXml.slice(last));
  const rewritten = Buffer.from(parts.join(''), 'utf8');
  const entries = [...zip.entries.keys()]
    .filter((n) => !n.endsWith('/'))
    .map((name) => ({ name, data: name === 'word/document.xml' ? rewritten : zip.read(name) }));
  return writeStoredZip(entries);
}

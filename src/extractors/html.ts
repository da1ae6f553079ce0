// text/html via cheerio (htmlparser2 mode: parse5 is quadratic on deeply nested
// input). The DOM is walked with an explicit stack, never recursion, so a document
// nested 100,000 levels deep cannot overflow the call stack. Boilerplate (scripts,
// styles, navigation, footers, asides, hidden elements) is skipped; h1–h6 open
// sections with a heading path; table rows become "cell | cell" lines.
import { SluiceError } from '../errors.ts';
import { declaredCharset } from './charset.ts';
import {
  type DomNode,
  hasCaption,
  isLayoutTable,
  newTable,
  spansOf,
  type TableState,
} from './html-tables.ts';
import { checkAborted, finishDocument, readTextInput } from './text-input.ts';
import type { Extractor, Section } from './types.ts';

const DROP = new Set(
  'script style noscript template iframe svg nav footer aside head object embed canvas button select'.split(
    ' ',
  ),
);
const DROP_ROLES = new Set(['navigation', 'banner', 'contentinfo', 'search', 'complementary']);
const BLOCK = new Set(
  (
    'address article blockquote body caption center dd details dialog div dl dt fieldset figcaption figure ' +
    'form header hr html legend li main ol p pre section summary table tbody thead tfoot tr ul br'
  ).split(' '),
);
const CONTENT_ROOTS = new Set(['article', 'main']);

/** HTML extractor; metadata records the charset and the document language. */
export const htmlExtractor: Extractor = {
  name: 'html',
  version: 2,
  mimeTypes: ['text/html'],
  async extract(input) {
    const { text, charset } = readTextInput(input, declaredCharset(input.bytes));
    // Loaded on first use: cheerio (with undici) is heavy, and commands that never parse HTML skip it.
    const { load } = await import('cheerio');
    const $ = load(text, { xml: { xmlMode: false, decodeEntities: true } });
    const root = $.root()[0] as unknown as DomNode;
    const walked = walk(root, input.signal, input.limits.maxTextChars);
    const metadata: Record<string, unknown> = { charset };
    if (walked.lang) metadata.lang = walked.lang;
    const title = walked.title || walked.firstH1;
    return finishDocument({ ...(title ? { title } : {}), metadata, sections: walked.sections }, input.limits);
  },
};

interface Walked {
  sections: Section[];
  title?: string;
  firstH1?: string;
  lang?: string;
}

type Frame = { node: DomNode; exit: false } | { node: DomNode; exit: true };

/** Depth-first walk with an explicit stack; each element is visited on entry and exit. */
function walk(root: DomNode, signal: AbortSignal | undefined, maxChars: number): Walked {
  const out: Walked = { sections: [] };
  const headings: { level: number; text: string }[] = [];
  let lines: string[] = [];
  let line = '';
  let heading: { level: number; text: string } | undefined;
  let chars = 0;
  let pre = 0;
  let cell = 0;
  let content = 0;
  let captioned = 0;
  const tables: TableState[] = [];
  const table = (): TableState => {
    if (!tables.length) tables.push(newTable(false));
    return tables[tables.length - 1]!;
  };
  /** Append a cell's text to the current row line, after a separator unless it is the first. */
  const appendCell = (t: TableState, text: string) => {
    line = t.col > 0 ? `${line.trimEnd()} | ${text}` : line + text;
    t.col++;
  };
  /** Cells spanned down from rows above that sit at the current column. */
  const emitCarried = (t: TableState, all: boolean) => {
    while (t.col < t.carry.length && (t.carry[t.col] || all)) {
      const held = t.carry[t.col];
      t.carry[t.col] = held && held.rows > 1 ? { text: held.text, rows: held.rows - 1 } : undefined;
      if (held) appendCell(t, held.text);
      else t.col++;
    }
  };

  const flushLine = () => {
    const text = pre > 0 ? line.replace(/\s+$/, '') : line.replace(/\s+/g, ' ').trim();
    if (text) lines.push(text);
    line = '';
  };
  const flushSection = () => {
    flushLine();
    const text = lines.join('\n').trim();
    if (text) out.sections.push({ text, headingPath: headings.map((h) => h.text) });
    lines = [];
  };
  const blockBreak = () => {
    if (cell > 0) line += ' ';
    else flushLine();
  };

  const stack: Frame[] = [{ node: root, exit: false }];
  let visited = 0;
  while (stack.length > 0) {
    if ((++visited & 4095) === 0) checkAborted(signal);
    const { node, exit } = stack.pop()!;
    if (node.type === 'text') {
      const data = pre > 0 ? (node.data ?? '') : (node.data ?? '').replace(/\s+/g, ' ');
      chars += data.length;
      if (chars > maxChars) {
        throw new SluiceError('TOO_LARGE', `extracted text exceeds the ${maxChars}-character limit`);
      }
      if (heading) heading.text += data;
      else if (pre > 0 && cell === 0 && data.includes('\n')) {
        const parts = data.split('\n');
        for (let i = 0; i < parts.length - 1; i++) {
          line += parts[i];
          flushLine();
        }
        line += parts[parts.length - 1];
      } else line += data;
      continue;
    }
    const children = node.children;
    if (!children) continue;
    const name = node.name?.toLowerCase() ?? '';
    if (!exit) {
      if (name === 'html' && node.attribs?.lang) out.lang = node.attribs.lang;
      if (name === 'title' || (name === 'head' && !out.title)) {
        out.title ||= titleOf(node);
        continue;
      }
      if (skip(node, name, content > 0)) continue;
      stack.push({ node, exit: true });
      for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i]!, exit: false });
      const inLayout = tables.length > 0 && table().layout;
      if (/^h[1-6]$/.test(name) && !heading && cell === 0) {
        flushLine();
        heading = { level: Number(name[1]), text: '' };
      } else if (name === 'table') {
        flushLine();
        tables.push(newTable(isLayoutTable(node)));
      } else if (name === 'tr' && !inLayout) {
        flushLine();
        table().col = 0;
      } else if ((name === 'td' || name === 'th') && !inLayout) {
        const t = table();
        emitCarried(t, false);
        if (t.col > 0) line = `${line.trimEnd()} | `;
        t.cellStart = line.length;
        t.spans.push(spansOf(node));
        cell++;
      } else if (name === 'img' && node.attribs?.alt?.trim() && captioned === 0) {
        // Alt text stands in for the image; inside a captioned figure the caption does.
        line += ` ${node.attribs.alt.trim()} `;
      } else if (BLOCK.has(name) || name === 'td' || name === 'th') blockBreak();
      if (name === 'li' && cell === 0) line += '- ';
      if (name === 'pre') pre++;
      if (name === 'figure' && hasCaption(node)) captioned++;
      if (CONTENT_ROOTS.has(name)) content++;
      continue;
    }
    // Exit of an element.
    if (heading && name === `h${heading.level}`) {
      const text = heading.text.replace(/\s+/g, ' ').trim();
      heading = undefined;
      const level = Number(name[1]);
      flushSection();
      while (headings.length > 0 && headings[headings.length - 1]!.level >= level) headings.pop();
      if (text) {
        headings.push({ level, text });
        if (level === 1) out.firstH1 ??= text;
        lines.push(text);
      }
    } else if (name === 'table') {
      flushLine();
      tables.pop();
    } else if (name === 'tr' && !table().layout) {
      emitCarried(table(), true);
      flushLine();
    } else if ((name === 'td' || name === 'th') && !table().layout) {
      // A cell spanning columns is repeated in each; one spanning rows is carried down.
      const t = table();
      const { cols, rows } = t.spans.pop() ?? { cols: 1, rows: 1 };
      const text = line.slice(t.cellStart).replace(/\s+/g, ' ').trim();
      const at = t.col;
      t.col++;
      for (let k = 1; k < cols; k++) appendCell(t, text);
      if (rows > 1) for (let k = 0; k < cols; k++) t.carry[at + k] = { text, rows: rows - 1 };
      cell--;
    } else if (BLOCK.has(name) || name === 'td' || name === 'th') blockBreak();
    if (name === 'pre') pre--;
    if (name === 'figure' && hasCaption(node)) captioned--;
    if (CONTENT_ROOTS.has(name)) content--;
  }
  flushSection();
  return out;
}

/** Boilerplate, hidden elements, and page headers outside the main content. */
function skip(node: DomNode, name: string, inContent: boolean): boolean {
  if (node.type === 'comment' || node.type === 'directive' || node.type === 'cdata') return true;
  if (DROP.has(name)) return true;
  if (name === 'header' && !inContent) return true;
  const a = node.attribs;
  if (!a) return false;
  if ('hidden' in a || a['aria-hidden'] === 'true') return true;
  if (a.role && DROP_ROLES.has(a.role.toLowerCase())) return true;
  return /display\s*:\s*none/i.test(a.style ?? '');
}

/** Text of the first <title> under `node` (shallow iterative search). */
function titleOf(node: DomNode): string | undefined {
  const stack: DomNode[] = [node];
  let text = '';
  let seen = 0;
  while (stack.length > 0 && seen++ < 10_000) {
    const n = stack.pop()!;
    if (n.type === 'text') text += n.data ?? '';
    else if (n.name === 'title' || n === node) {
      const kids = n.children ?? [];
      for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
    } else if (n.name !== 'script' && n.name !== 'style') {
      for (const k of n.children ?? []) if (k.name === 'title') stack.push(k);
    }
  }
  const title = text.replace(/\s+/g, ' ').trim();
  return title || undefined;
}

// PDF outline (bookmarks) → heading paths. pdf.js gives the outline tree with each
// entry's destination; a destination names a page and usually a y position (XYZ,
// FitH). Each page's lines are then split where an entry starts, and every run of
// lines gets the path of the entry in force: the titles from the outline root down.
// Outlines come from untrusted files: depth, entry count and title length are capped,
// and a destination that cannot be resolved is skipped, never fatal.
import { joinLines, type PageLine } from './pdf-layout.ts';
import type { Section } from './types.ts';

const MAX_DEPTH = 12;
const MAX_ENTRIES = 5000;
const MAX_TITLE_CHARS = 300;

interface OutlineNode {
  title?: unknown;
  dest?: unknown;
  items?: unknown;
}

/** The slice of the pdf.js document API the outline needs. */
export interface PdfOutlineSource {
  getOutline(): Promise<OutlineNode[] | null>;
  getDestination(id: string): Promise<unknown[] | null>;
  getPageIndex(ref: unknown): Promise<number>;
}

export interface OutlineEntry {
  /** Titles from the outermost entry down to this one. */
  path: string[];
  /** 1-based page the entry points at. */
  page: number;
  /** Top of the destination in the page's top-down viewport coordinates, when the destination has one. */
  top?: number;
}

function cleanTitle(raw: unknown): string {
  const t = typeof raw === 'string' ? raw.replace(/[\s\u0000-\u001f]+/g, ' ').trim() : '';
  // Titles in an encoding pdf.js cannot decode come out as "????": no use as a heading.
  const undecoded = (t.match(/[?\uFFFD]/g) ?? []).length;
  if (undecoded > 0 && undecoded * 3 >= t.length) return '';
  return t.length > MAX_TITLE_CHARS ? `${t.slice(0, MAX_TITLE_CHARS - 1)}…` : t;
}

/** Destination → page index (0-based) and the PDF y coordinate, if any. */
async function resolveDest(
  doc: PdfOutlineSource,
  dest: unknown,
): Promise<{ index: number; y?: number } | undefined> {
  const explicit = typeof dest === 'string' ? await doc.getDestination(dest) : dest;
  if (!Array.isArray(explicit) || explicit.length === 0) return undefined;
  const [target, kind] = explicit;
  const index = typeof target === 'number' ? target : await doc.getPageIndex(target);
  if (!Number.isInteger(index) || index < 0) return undefined;
  const name = (kind as { name?: unknown } | null)?.name;
  const y = name === 'XYZ' ? explicit[3] : name === 'FitH' || name === 'FitBH' ? explicit[2] : undefined;
  return typeof y === 'number' && Number.isFinite(y) ? { index, y } : { index };
}

/**
 * The outline as a flat list in document order. `pageTransforms[i]` is page i+1's
 * viewport transform (pdf.js `getViewport({ scale: 1 }).transform`), used to turn a
 * destination's PDF y into the top-down coordinates of the page's lines.
 */
export async function readOutline(
  doc: PdfOutlineSource,
  pageTransforms: ReadonlyArray<number[] | undefined>,
): Promise<OutlineEntry[]> {
  const roots = await doc.getOutline().catch(() => null);
  if (!Array.isArray(roots)) return [];
  const out: OutlineEntry[] = [];
  const walk = async (nodes: unknown, parents: string[]): Promise<void> => {
    if (!Array.isArray(nodes) || parents.length >= MAX_DEPTH) return;
    for (const node of nodes as OutlineNode[]) {
      if (out.length >= MAX_ENTRIES) return;
      const title = cleanTitle(node?.title);
      const path = title ? [...parents, title] : parents;
      const at = title ? await resolveDest(doc, node.dest).catch(() => undefined) : undefined;
      if (at && at.index < pageTransforms.length) {
        const entry: OutlineEntry = { path, page: at.index + 1 };
        const m = pageTransforms[at.index];
        // Unrotated pages only (b = 0): then top = d·y + f. A rotated page splits at page starts.
        if (at.y !== undefined && m && (m[1] ?? 0) === 0) entry.top = (m[3] ?? 1) * at.y + (m[5] ?? 0);
        out.push(entry);
      }
      await walk(node?.items, path);
    }
  };
  await walk(roots, []);
  // Document order: by page, then by position on the page (entries without one first).
  return out
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.page - b.e.page || (a.e.top ?? -1) - (b.e.top ?? -1) || a.i - b.i)
    .map(({ e }) => e);
}

/** Pages of lines → sections, split where outline entries start, each with its heading path. */
export function outlineSections(pages: readonly PageLine[][], outline: readonly OutlineEntry[]): Section[] {
  const sections: Section[] = [];
  let path: string[] = [];
  let next = 0;
  const push = (lines: PageLine[], page: number, headingPath: string[]) => {
    const text = joinLines(lines);
    if (!text) return;
    sections.push(headingPath.length > 0 ? { text, page, headingPath } : { text, page });
  };
  pages.forEach((lines, i) => {
    const page = i + 1;
    let run: PageLine[] = [];
    let runPath = path;
    // Entries that start on this page; one without a position starts at the top.
    for (const line of lines) {
      while (
        next < outline.length &&
        outline[next]!.page === page &&
        (outline[next]!.top ?? 0) <= line.top + 2
      ) {
        path = outline[next++]!.path;
      }
      if (path !== runPath) {
        push(run, page, runPath);
        run = [];
        runPath = path;
      }
      run.push(line);
    }
    push(run, page, runPath);
    // Entries on this page below its last line (or on an empty page) hold from here on.
    while (next < outline.length && outline[next]!.page <= page) path = outline[next++]!.path;
  });
  return sections;
}

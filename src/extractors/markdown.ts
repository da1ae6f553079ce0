// text/markdown: a line scanner, not a full CommonMark parser — for retrieval we
// need readable text and heading structure, not rendering. YAML front matter goes
// to metadata (parsed with alias and size caps); ATX and setext headings open new
// sections; fences keep code verbatim; HTML comments and raw tags are dropped.
import { parse as parseYaml } from 'yaml';
import { checkAborted, finishDocument, readTextInput } from './text-input.ts';
import type { Extractor, Section } from './types.ts';

/** Front matter larger than this is treated as body text, not parsed. */
const MAX_FRONT_MATTER_CHARS = 64 * 1024;

const ATX = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const TABLE_DELIMITER = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;

/** Markdown extractor; metadata holds the charset and any front matter. */
export const markdownExtractor: Extractor = {
  name: 'markdown',
  version: 1,
  mimeTypes: ['text/markdown'],
  async extract(input) {
    const { text, charset } = readTextInput(input);
    const { body, frontMatter, error } = splitFrontMatter(text.replace(/\r\n?/g, '\n'));
    const metadata: Record<string, unknown> = { charset };
    if (frontMatter) metadata.frontMatter = frontMatter;
    if (error) metadata.frontMatterError = error;
    const { sections, firstH1 } = scan(body, input.signal);
    const fmTitle = frontMatter?.title;
    const title = typeof fmTitle === 'string' && fmTitle.trim() ? fmTitle.trim() : firstH1;
    return finishDocument({ ...(title ? { title } : {}), metadata, sections }, input.limits);
  },
};

interface FrontMatter {
  body: string;
  frontMatter?: Record<string, unknown>;
  error?: string;
}

/** Split off a leading `---` YAML block and parse it safely. */
export function splitFrontMatter(text: string): FrontMatter {
  const m = /^\uFEFF?---[ \t]*\n/.exec(text);
  if (!m) return { body: text };
  const close = /\n(?:---|\.\.\.)[ \t]*(?:\n|$)/.exec(text.slice(m[0].length, MAX_FRONT_MATTER_CHARS));
  if (!close) return { body: text };
  const yaml = text.slice(m[0].length, m[0].length + close.index);
  const body = text.slice(m[0].length + close.index + close[0].length);
  try {
    // maxAliasCount stops "billion laughs" alias expansion; the JSON round trip keeps metadata serialisable.
    const value: unknown = parseYaml(yaml, { maxAliasCount: 50, prettyErrors: false, uniqueKeys: false });
    const json: unknown = value === undefined || value === null ? {} : JSON.parse(JSON.stringify(value));
    if (json && typeof json === 'object' && !Array.isArray(json)) {
      return { body, frontMatter: json as Record<string, unknown> };
    }
    return { body, error: 'front matter is not a mapping' };
  } catch (err) {
    return { body, error: `invalid front matter: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Scan Markdown lines into sections split at headings. */
function scan(body: string, signal: AbortSignal | undefined): { sections: Section[]; firstH1?: string } {
  const sections: Section[] = [];
  const headings: { level: number; text: string }[] = [];
  let lines: string[] = [];
  let firstH1: string | undefined;
  let fence: string | undefined;
  const comment = { open: false };
  const flush = () => {
    const text = lines.join('\n').trim();
    if (text) sections.push({ text, headingPath: headings.map((h) => h.text) });
    lines = [];
  };
  const openHeading = (level: number, raw: string) => {
    const text = inline(raw).trim();
    flush();
    while (headings.length > 0 && headings[headings.length - 1]!.level >= level) headings.pop();
    if (!text) return;
    headings.push({ level, text });
    if (level === 1 && firstH1 === undefined) firstH1 = text;
    lines.push(text, '');
  };
  const all = body.split('\n');
  for (let i = 0; i < all.length; i++) {
    if ((i & 4095) === 0) checkAborted(signal);
    const raw = all[i]!;
    if (fence) {
      if (raw.trimStart().startsWith(fence)) fence = undefined;
      else lines.push(raw);
      continue;
    }
    const fenceMatch = FENCE.exec(raw);
    if (fenceMatch && !comment.open) {
      fence = fenceMatch[1]!;
      continue;
    }
    const line = stripComments(raw, comment);
    const atx = ATX.exec(line);
    if (atx) {
      openHeading(atx[1]!.length, atx[2] ?? '');
      continue;
    }
    const prev = lines[lines.length - 1];
    if (SETEXT.test(line) && prev && !/^\s*([-*+]|\d+[.)]|\|)\s/.test(prev) && !comment.open) {
      lines.pop();
      openHeading(line.trim().startsWith('=') ? 1 : 2, prev);
      continue;
    }
    if (/^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/.test(line)) continue; // thematic break
    if (TABLE_DELIMITER.test(line) && line.includes('-') && prev?.includes('|')) continue;
    const text = blockLine(line);
    if (text || lines[lines.length - 1]) lines.push(text);
  }
  flush();
  return firstH1 === undefined ? { sections } : { sections, firstH1 };
}

/** Remove `<!-- -->` comments, which may span lines (state carried in `state`). */
function stripComments(line: string, state: { open: boolean }): string {
  let out = '';
  let rest = line;
  while (rest) {
    if (state.open) {
      const end = rest.indexOf('-->');
      if (end < 0) return out;
      state.open = false;
      rest = rest.slice(end + 3);
    } else {
      const start = rest.indexOf('<!--');
      if (start < 0) return out + rest;
      out += rest.slice(0, start);
      state.open = true;
      rest = rest.slice(start + 4);
    }
  }
  return out;
}

/** One body line made readable: quote markers, table pipes and raw tags removed. */
function blockLine(line: string): string {
  let text = line.replace(/^ {0,3}(?:>[ \t]?)+/, '');
  if (/^\s*\|.*\|\s*$/.test(text)) {
    text = text
      .trim()
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((cell) => cell.trim())
      .join(' | ');
  }
  return inline(text).replace(/\s+$/, '');
}

/** Inline markup → plain text: images and links keep their text, emphasis and tags go. */
function inline(text: string): string {
  return text
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/<\/?[a-zA-Z][^<>]*>/g, '')
    .replace(/(\*\*|__)(?=\S)(.+?)(?<=\S)\1/g, '$2')
    .replace(/`([^`]+)`/g, '$1')
    .replace(/\\([\\`*_{}[\]()#+\-.!|>])/g, '$1');
}

// RTF extractor: a small tokenizer over control words and groups. Text in the
// document's code page (\ansicpg, or a font's \fcharset: Japanese, Chinese, Cyrillic
// RTF is full of \'hh escapes) and \uN Unicode escapes is decoded; font, colour and
// style tables, pictures, objects and other ignorable destinations are skipped;
// paragraphs whose outline level or heading style marks them become headings;
// table cells are joined with " | ". Group nesting is bounded (hostile files).
import { SluiceError } from '../errors.ts';
import { checkAborted, finishDocument } from './text-input.ts';
import type { ExtractedDocument, ExtractInput, Extractor, Section } from './types.ts';

export const RTF_MIME = 'application/rtf';
const MAX_DEPTH = 1000;
/** Destinations whose content is not document text. */
const SKIP = new Set(
  'fonttbl colortbl stylesheet info pict object themedata colorschememapping datastore latentstyles listtable listoverridetable rsidtbl generator xmlnstbl mmathPr pgdsctbl revtbl filetbl bkmkstart bkmkend fldinst header headerl headerr headerf footer footerl footerr footerf'.split(
    ' ',
  ),
);
/** \fcharset values → code pages. */
const CHARSET_CP: Record<number, string> = {
  128: 'shift_jis',
  129: 'euc-kr',
  134: 'gbk',
  136: 'big5',
  161: 'windows-1253',
  162: 'windows-1254',
  177: 'windows-1255',
  178: 'windows-1256',
  186: 'windows-1257',
  204: 'windows-1251',
  222: 'windows-874',
  238: 'windows-1250',
};
const SYMBOLS: Record<string, string> = {
  emdash: '—',
  endash: '–',
  bullet: '•',
  lquote: '‘',
  rquote: '’',
  ldblquote: '“',
  rdblquote: '”',
  tab: '\t',
  line: '\n',
  emspace: ' ',
  enspace: ' ',
  qmspace: ' ',
  '~': ' ',
  '-': '',
  _: '-',
};

interface State {
  skip: boolean;
  font: number;
  uc: number;
  outline: number | undefined;
  style: number;
}

function decoderFor(cp: string): TextDecoder {
  try {
    return new TextDecoder(cp);
  } catch {
    return new TextDecoder('windows-1252');
  }
}

export const rtfExtractor: Extractor = {
  name: 'rtf',
  version: 1,
  mimeTypes: [RTF_MIME],
  async extract(input: ExtractInput): Promise<ExtractedDocument> {
    checkAborted(input.signal);
    const { bytes, limits } = input;
    if (bytes.length > limits.maxBytes)
      throw new SluiceError('TOO_LARGE', `RTF is ${bytes.length} bytes, limit ${limits.maxBytes}`);
    if (bytes.length === 0) throw new SluiceError('NO_TEXT', 'RTF file is empty');
    const src = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    if (!src.startsWith('{\\rtf'))
      throw new SluiceError('CORRUPT_FILE', 'not an RTF file (no {\\rtf header)');
    return finishDocument(parseRtf(src, input), limits);
  },
};

function parseRtf(src: string, input: ExtractInput): ExtractedDocument {
  const fontCp = new Map<number, string>();
  const headingStyles = new Map<number, number>();
  let docCp = 'windows-1252';
  const stack: State[] = [];
  let st: State = { skip: false, font: -1, uc: 1, outline: undefined, style: 0 };
  const sections: Section[] = [];
  let para = '';
  let paras: string[] = [];
  let pending: number[] = [];
  let ucSkip = 0;
  let chars = 0;
  // Destination bookkeeping: font table entries and style names are read, not emitted.
  let dest = '';
  let destText = '';
  let destFont = -1;
  let destCharset = -1;
  let destStyle = 0;
  let destDepth = -1;
  const flushBytes = (): void => {
    if (!pending.length) return;
    const cp = fontCp.get(st.font) ?? docCp;
    para += decoderFor(cp).decode(new Uint8Array(pending));
    pending = [];
  };
  const emit = (s: string): void => {
    if (st.skip) {
      if (dest) destText += s;
      return;
    }
    flushBytes();
    para += s;
  };
  const endParagraph = (): void => {
    flushBytes();
    const text = para.replace(/[ \t]+/g, ' ').trim();
    para = '';
    if (!text) return;
    const level = st.outline !== undefined ? st.outline + 1 : headingStyles.get(st.style);
    chars += text.length;
    if (chars > input.limits.maxTextChars)
      throw new SluiceError('TOO_LARGE', `RTF text exceeds ${input.limits.maxTextChars} characters`);
    if (level !== undefined) {
      if (paras.length) sections.push({ text: paras.join('\n'), ...headingOf(sections) });
      paras = [];
      const path = [...(headingOf(sections).headingPath ?? [])].slice(0, level - 1);
      sections.push({ text, headingPath: [...path, text] });
    } else paras.push(text);
  };
  const closeDest = (): void => {
    if (dest === 'font' && destFont >= 0 && CHARSET_CP[destCharset])
      fontCp.set(destFont, CHARSET_CP[destCharset]!);
    if (dest === 'style') {
      const m = /heading\s*(\d)/i.exec(destText);
      if (m) headingStyles.set(destStyle, Number(m[1]));
    }
    dest = '';
    destText = '';
    destDepth = -1;
  };
  const n = src.length;
  for (let i = 0; i < n; ) {
    if ((i & 0xffff) === 0) checkAborted(input.signal);
    const ch = src[i]!;
    if (ch === '{') {
      if (stack.length >= MAX_DEPTH)
        throw new SluiceError('CORRUPT_FILE', `RTF nests groups deeper than ${MAX_DEPTH} levels`);
      flushBytes();
      stack.push(st);
      st = { ...st };
      i++;
    } else if (ch === '}') {
      flushBytes();
      if (dest && stack.length === destDepth) closeDest();
      st = stack.pop() ?? st;
      i++;
    } else if (ch === '\\') {
      const m = /^\\(?:([a-zA-Z]+)(-?\d+)? ?|'([0-9a-fA-F]{2})|([^a-zA-Z]))/.exec(src.slice(i, i + 40));
      if (!m) {
        i++;
        continue;
      }
      i += m[0].length;
      if (m[3] !== undefined) {
        if (ucSkip > 0) ucSkip--;
        else if (st.skip) destText += String.fromCharCode(parseInt(m[3], 16));
        else pending.push(parseInt(m[3], 16));
        continue;
      }
      if (m[4] !== undefined) {
        const sym = m[4];
        if (sym === '*') st.skip = true;
        else if (sym === '\\' || sym === '{' || sym === '}') emit(sym);
        else if (sym === '\n' || sym === '\r') endParagraph();
        else if (SYMBOLS[sym] !== undefined) emit(SYMBOLS[sym]!);
        continue;
      }
      const word = m[1]!;
      const arg = m[2] === undefined ? undefined : Number(m[2]);
      if (SKIP.has(word)) {
        st.skip = true;
        continue;
      }
      switch (word) {
        case 'f':
          if (stack.some((s) => s.skip) || st.skip) {
            dest = 'font';
            destDepth = stack.length;
            destFont = arg ?? -1;
            destCharset = -1;
          } else {
            flushBytes();
            st.font = arg ?? -1;
          }
          break;
        case 'fcharset':
          destCharset = arg ?? -1;
          break;
        case 's':
          if (st.skip) {
            dest = 'style';
            destDepth = stack.length;
            destStyle = arg ?? 0;
          } else st.style = arg ?? 0;
          break;
        case 'ansicpg':
          if (arg)
            docCp =
              arg === 932
                ? 'shift_jis'
                : arg === 936
                  ? 'gbk'
                  : arg === 949
                    ? 'euc-kr'
                    : arg === 950
                      ? 'big5'
                      : `windows-${arg}`;
          break;
        case 'uc':
          st.uc = arg ?? 1;
          break;
        case 'u':
          if (arg !== undefined) emit(String.fromCharCode(arg < 0 ? arg + 65536 : arg));
          ucSkip = st.uc;
          continue;
        case 'par':
        case 'sect':
        case 'page':
          endParagraph();
          break;
        case 'pard':
          st.outline = undefined;
          st.style = 0;
          break;
        case 'outlinelevel':
          st.outline = arg;
          break;
        case 'cell':
          emit(' | ');
          break;
        case 'row':
          para = para.replace(/ \| $/, '');
          endParagraph();
          break;
        default:
          if (SYMBOLS[word] !== undefined) emit(SYMBOLS[word]!);
      }
      ucSkip = 0;
    } else {
      if (ch !== '\r' && ch !== '\n') {
        if (ucSkip > 0) ucSkip--;
        else emit(ch);
      }
      i++;
    }
  }
  endParagraph();
  if (paras.length) sections.push({ text: paras.join('\n'), ...headingOf(sections) });
  return { metadata: { charset: docCp }, sections };
}

/** The heading path in force after `sections` (the last heading's path). */
function headingOf(sections: Section[]): Pick<Section, 'headingPath'> {
  const last = sections.at(-1)?.headingPath;
  return last ? { headingPath: last } : {};
}

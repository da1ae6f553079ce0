// CSV and TSV: charset decoded like any text input, the dialect (delimiter) sniffed
// from the first lines, records parsed as a stream (csv-parse) and turned into row
// blocks by table-sections.ts as they arrive, so no array of all records is ever
// built and a file over the text limit stops as soon as it crosses it.
import { once } from 'node:events';
import { SluiceError } from '../errors.ts';
import { TableSections } from './table-sections.ts';
import { checkAborted, finishDocument, readTextInput } from './text-input.ts';
import type { ExtractedDocument, ExtractInput, Extractor, Section } from './types.ts';

const CANDIDATES = [',', '\t', ';', '|'] as const;
/** Characters handed to the parser at a time. */
const SLICE = 1 << 20;
/** Longest record accepted (a missing closing quote would otherwise swallow the file). */
const MAX_RECORD_CHARS = 1 << 20;

/** Fields per line for `delim`, quotes respected (a quoted delimiter does not count). */
function fieldsPerLine(lines: readonly string[], delim: string): number[] {
  return lines.map((line) => {
    let n = 1;
    let quoted = false;
    for (const ch of line) {
      if (ch === '"') quoted = !quoted;
      else if (ch === delim && !quoted) n++;
    }
    return n;
  });
}

/** The delimiter whose field count is most consistent (and > 1) over the first lines. */
export function sniffDelimiter(text: string, fallback: string): string {
  const sample = text.slice(0, 64 * 1024);
  const lines = sample.split(/\r?\n/);
  // The sample's last line may be cut short; only whole lines count.
  if (lines.length > 1 && text.length > sample.length) lines.pop();
  const whole = lines.slice(0, 30).filter((l) => l.trim());
  let best = fallback;
  let bestScore = 0;
  for (const d of CANDIDATES) {
    const counts = fieldsPerLine(whole, d);
    const mode = counts.sort((a, b) => a - b)[Math.floor(counts.length / 2)] ?? 1;
    if (mode < 2) continue;
    const agree = counts.filter((c) => c === mode).length / counts.length;
    const score = agree * 100 + Math.min(mode, 50);
    if (score > bestScore) [best, bestScore] = [d, score];
  }
  return best;
}

export const csvExtractor: Extractor = {
  name: 'csv',
  version: 1,
  mimeTypes: ['text/csv', 'text/tab-separated-values'],
  async extract(input: ExtractInput): Promise<ExtractedDocument> {
    const { text, charset } = readTextInput(input);
    const delimiter = sniffDelimiter(text, input.mime === 'text/tab-separated-values' ? '\t' : ',');
    const { parse } = await import('csv-parse');
    const parser = parse({
      delimiter,
      bom: true,
      relax_quotes: true,
      relax_column_count: true,
      skip_empty_lines: false,
      max_record_size: MAX_RECORD_CHARS,
    });
    const sections: Section[] = [];
    let chars = 0;
    const table = new TableSections([], (s) => {
      chars += s.text.length;
      if (chars > input.limits.maxTextChars)
        throw new SluiceError('TOO_LARGE', `CSV text exceeds ${input.limits.maxTextChars} characters`);
      sections.push(s);
    });
    // Backpressure: wait for the parser to drain; `stop` ends the wait if parsing fails.
    const stop = new AbortController();
    const feed = (async () => {
      for (let at = 0; at < text.length && !parser.destroyed; at += SLICE) {
        if (!parser.write(text.slice(at, at + SLICE))) await once(parser, 'drain', { signal: stop.signal });
      }
      parser.end();
    })();
    let rows = 0;
    try {
      for await (const record of parser as AsyncIterable<string[]>) {
        checkAborted(input.signal);
        table.add({ n: ++rows, cells: record });
      }
      await feed;
    } catch (err) {
      stop.abort();
      parser.destroy();
      await feed.catch(() => undefined);
      if (err instanceof SluiceError || (err as Error)?.name === 'AbortError') throw err;
      throw new SluiceError('CORRUPT_FILE', `CSV cannot be parsed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    table.finish();
    const name = delimiter === '\t' ? 'tab' : delimiter;
    return finishDocument({ metadata: { charset, delimiter: name, rows }, sections }, input.limits);
  },
};

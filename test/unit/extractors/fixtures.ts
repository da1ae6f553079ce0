// Test helpers for the text-format extractor tests: fixture loading and fuzzy
// comparison of extracted text against expected renditions (docling Markdown).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../fixtures/', import.meta.url));

/** Bytes of a fixture under test/fixtures/. */
export function fixture(path: string): Uint8Array {
  return new Uint8Array(readFileSync(ROOT + path));
}

/** A fixture as UTF-8 text. */
export function fixtureText(path: string): string {
  return readFileSync(ROOT + path, 'utf8');
}

/** Lower-cased words, Markdown punctuation and table rules dropped. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Share of the expected text's word trigrams that occur in the actual text. */
export function trigramRecall(actual: string, expected: string): number {
  const grams = (w: string[]) => {
    const out = new Set<string>();
    for (let i = 0; i + 2 < w.length; i++) out.add(`${w[i]} ${w[i + 1]} ${w[i + 2]}`);
    return out;
  };
  const have = grams(words(actual));
  const want = grams(words(expected));
  if (want.size === 0) return 1;
  let hit = 0;
  for (const g of want) if (have.has(g)) hit++;
  return hit / want.size;
}

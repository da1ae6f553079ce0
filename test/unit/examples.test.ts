// The bundled examples/ folder and the README's Quickstart that indexes it: every
// example is listed in examples/SOURCES.md with its licence and exact sha256, the
// folder stays small, and the two Quickstart commands are what CI checks
// (scripts/check-readme-quickstart.sh runs the first, .ci/run runs `npm test`).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLES = join(ROOT, 'examples');
const sources = readFileSync(join(EXAMPLES, 'SOURCES.md'), 'utf8');
const examples = readdirSync(EXAMPLES).filter((n) => n !== 'SOURCES.md' && !n.startsWith('.'));

/** The lines of the fenced block between <!-- quickstart:NAME --> markers, as the check script reads them. */
function quickstart(name: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = new RegExp(`<!-- quickstart:${name} -->\\n([\\s\\S]*?)<!-- /quickstart:${name} -->`).exec(readme);
  return (m?.[1] ?? '').split('\n').filter((l) => l !== '' && !l.startsWith('```'));
}

describe('examples/', () => {
  it('lists every example in SOURCES.md with a licence row and its exact sha256', () => {
    expect(examples.length).toBeGreaterThanOrEqual(6);
    for (const name of examples) {
      const row = sources.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
      expect(row, name).toMatch(
        /\| [^|]+\| [^|]+\| [^|]*(MIT|Apache-2\.0|PostgreSQL|permission notice)[^|]*\|$/,
      );
      const sha = createHash('sha256')
        .update(readFileSync(join(EXAMPLES, name)))
        .digest('hex');
      expect(sources, name).toContain(`${sha}  ${name}`);
    }
  });

  it('covers Markdown, HTML, PDF and DOCX and stays under 1 MB', () => {
    const kinds = new Set(examples.map((n) => n.split('.').pop()));
    for (const k of ['md', 'html', 'pdf', 'docx']) expect(kinds.has(k), k).toBe(true);
    const bytes = readdirSync(EXAMPLES).reduce((n, f) => n + statSync(join(EXAMPLES, f)).size, 0);
    expect(bytes).toBeLessThan(1_000_000);
  });
});

describe("the README's Quickstart", () => {
  it('is two commands: install and run on examples/, then npm test; CI runs both', () => {
    const run = quickstart('run');
    expect(run).toHaveLength(1);
    expect(run[0]).toMatch(/^npm ci && node bin\/sluice\.js run examples\/$/);
    expect(quickstart('test')).toEqual(['npm test']);
    expect(quickstart('search')).toHaveLength(1);
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    const test = ci.indexOf('\nnpm test\n');
    expect(test).toBeGreaterThan(0);
    expect(ci.indexOf('\nbash scripts/check-readme-quickstart.sh\n')).toBeGreaterThan(test);
  });
});

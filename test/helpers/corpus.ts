// Copies the real text/Markdown/HTML fixtures into a scratch folder a test may edit.
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Non-empty txt/md/html fixtures (not the .expected files), copied flat into a new temp dir. */
export function copyTextFixtures(): { dir: string; files: string[]; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-docs-'));
  const files: string[] = [];
  for (const sub of ['txt', 'md', 'html']) {
    for (const name of readdirSync(join(FIXTURES, sub))) {
      const src = join(FIXTURES, sub, name);
      if (name.includes('.expected.') || statSync(src).size === 0) continue;
      cpSync(src, join(dir, name));
      files.push(join(dir, name));
    }
  }
  return { dir, files, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function scratchDir(label: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), `sluice-${label}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One real document of each main format (md, html, pdf, docx), whose text the run tests search. */
export const FOUR_FORMATS = [
  ['md', 'docling-wiki.md'],
  ['html', 'deb-pkg-basics.en.html'],
  ['pdf', 'docling-multi_page.pdf'],
  ['docx', 'uns-handbook-1p.docx'],
] as const;

/** Copies FOUR_FORMATS flat into `dir` (created); returns how many. */
export function copyFourFormats(dir: string): number {
  mkdirSync(dir, { recursive: true });
  for (const [sub, name] of FOUR_FORMATS) copyFileSync(join(FIXTURES, sub, name), join(dir, name));
  return FOUR_FORMATS.length;
}

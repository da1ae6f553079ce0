// Mixed corpus for the chaos run: every supported type (txt, md with front matter,
// html, pdf, docx), each document distinct, plus a few that must fail with a code.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document, HeadingLevel, Packer, Paragraph } from 'docx';
import { PDFDocument, StandardFonts } from 'pdf-lib';

const WORDS =
  'river harbour lantern meadow copper willow falcon granite orchard signal thistle ember canyon quarry velvet summit'.split(
    ' ',
  );

/** Deterministic prose for document i, version v: several paragraphs of distinct sentences. */
export function prose(i: number, v: number, paragraphs = 6): string[] {
  const out: string[] = [];
  for (let p = 0; p < paragraphs; p++) {
    const sentences: string[] = [];
    for (let s = 0; s < 5; s++) {
      const w = (k: number) => WORDS[(i * 7 + p * 5 + s * 3 + k + v * 11) % WORDS.length];
      sentences.push(
        `Document ${i} paragraph ${p} sentence ${s} revision ${v} mentions the ${w(0)} near the ${w(1)} and the ${w(2)}.`,
      );
    }
    out.push(sentences.join(' '));
  }
  return out;
}

export type Kind = 'txt' | 'md' | 'html' | 'pdf' | 'docx' | 'bad-pdf' | 'empty';
const KINDS: Kind[] = ['txt', 'md', 'html', 'pdf', 'docx'];

export interface CorpusFile {
  path: string;
  kind: Kind;
  index: number;
}

export async function writeDoc(f: CorpusFile, version: number): Promise<void> {
  const paras = prose(f.index, version);
  const title = `Chaos document ${f.index}`;
  switch (f.kind) {
    case 'txt':
      return writeFileSync(f.path, `${title}\n\n${paras.join('\n\n')}\n`);
    case 'md':
      return writeFileSync(
        f.path,
        `---\ntitle: "${title}"\ntags: [chaos, "v${version}"]\n---\n\n# ${title}\n\n${paras.slice(0, 3).join('\n\n')}\n\n## Second part\n\n${paras.slice(3).join('\n\n')}\n`,
      );
    case 'html':
      return writeFileSync(
        f.path,
        `<!doctype html><html><head><title>${title}</title><script>var ignored = ${f.index};</script></head><body><h1>${title}</h1>${paras.map((p) => `<p>${p}</p>`).join('')}</body></html>`,
      );
    case 'pdf': {
      const doc = await PDFDocument.create();
      doc.setTitle(title);
      const font = await doc.embedFont(StandardFonts.Helvetica);
      for (let pg = 0; pg < 2; pg++) {
        const page = doc.addPage([595, 842]);
        let y = 780;
        for (const para of paras.slice(pg * 3, pg * 3 + 3)) {
          for (const line of para.match(/.{1,90}(\s|$)/g) ?? []) {
            page.drawText(line.trim(), { x: 50, y, size: 10, font });
            y -= 14;
          }
          y -= 10;
        }
      }
      return writeFileSync(f.path, await doc.save());
    }
    case 'docx': {
      const doc = new Document({
        sections: [
          {
            children: [
              new Paragraph({ text: title, heading: HeadingLevel.HEADING_1 }),
              ...paras.map((p) => new Paragraph(p)),
            ],
          },
        ],
      });
      return writeFileSync(f.path, new Uint8Array(await Packer.toBuffer(doc)));
    }
    case 'bad-pdf':
      return writeFileSync(f.path, Buffer.from(`garbage ${f.index} `.repeat(50).replace(/ /g, '\u0001')));
    case 'empty':
      return writeFileSync(f.path, '');
  }
}

/** n good documents round-robin over the kinds, plus a few that fail (CORRUPT_FILE, NO_TEXT). */
export async function makeCorpus(dir: string, n: number): Promise<CorpusFile[]> {
  const files: CorpusFile[] = [];
  for (let i = 0; i < n; i++) {
    const kind = KINDS[i % KINDS.length]!;
    files.push({ path: join(dir, `doc-${String(i).padStart(4, '0')}.${kind}`), kind, index: i });
  }
  const bad = Math.max(2, Math.round(n / 50));
  for (let i = 0; i < bad; i++) {
    files.push({ path: join(dir, `bad-${i}.pdf`), kind: 'bad-pdf', index: n + i });
    files.push({ path: join(dir, `empty-${i}.txt`), kind: 'empty', index: n + bad + i });
  }
  for (const f of files) await writeDoc(f, 0);
  return files;
}

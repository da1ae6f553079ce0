import { readFileSync } from 'node:fs';
import { sniffType } from '/work/wt-formats-office/src/extractors/sniff.ts';
import { pickExtractor } from '/work/wt-formats-office/src/extractors/index.ts';
import { DEFAULT_LIMITS } from '/work/wt-formats-office/src/extractors/types.ts';
for (const p of process.argv.slice(2)) {
  const bytes = new Uint8Array(readFileSync(p));
  const mime = await sniffType(bytes, p.split('/').pop());
  try {
    const doc = await pickExtractor(mime).extract({ bytes, mime, filename: p.split('/').pop(), limits: DEFAULT_LIMITS });
    console.log('==', p, mime, JSON.stringify(doc.metadata), doc.title);
    for (const s of doc.sections) console.log('--', JSON.stringify(s.headingPath), s.page ?? '', (s as any).rows ? JSON.stringify((s as any).rows) : '', '\n' + s.text.slice(0, 1500));
  } catch (e) { console.log('==', p, mime, (e as any).code, (e as Error).message); }
}

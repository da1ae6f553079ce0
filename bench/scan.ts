// bench:scan — a watched folder's full scan over a large tree: files per second
// and peak heap, showing the listing stays bounded (batches, not the whole tree).
//   npm run bench:scan -- --files 100000
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { scanFolder } from '../src/sources/folder-scan.ts';
import { ignoreRules } from '../src/sources/ignore.ts';

const { values } = parseArgs({ options: { files: { type: 'string', default: '100000' } } });
const total = Number(values.files);
const perDir = 1000;
const root = mkdtempSync(join(tmpdir(), 'sluice-bench-scan-'));
try {
  for (let d = 0; d * perDir < total; d++) {
    const dir = join(root, `d${d}`);
    mkdirSync(dir);
    for (let f = 0; f < perDir && d * perDir + f < total; f++) writeFileSync(join(dir, `f${f}.txt`), 'x');
  }
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let peak = heapBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 20);
  const report = { files: 0, unreadable: [] as string[], loops: [] as string[], links: [] as string[] };
  let biggest = 0;
  const started = performance.now();
  for await (const batch of scanFolder({ root, rules: ignoreRules() }, report)) {
    biggest = Math.max(biggest, batch.length);
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  console.log(
    JSON.stringify({
      files: report.files,
      seconds: Number(seconds.toFixed(2)),
      filesPerSecond: Math.round(report.files / seconds),
      largestBatch: biggest,
      heapGrowthMb: Number(((peak - heapBefore) / 1e6).toFixed(1)),
    }),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}

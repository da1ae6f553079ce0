// Deletion sync on a watched folder, without workers (the guard works on the
// source's stored state, whatever the documents' progress): a mass deletion is
// held and can be discarded; a small one is applied at once; the grace period
// lets a file that comes back keep its document; one watcher per source (lease).
import { mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discardHeld } from '../../src/loaders/source-objects.ts';
import { sourceSummaries } from '../../src/loaders/sources.ts';
import type { Runtime } from '../../src/queue/runtime.ts';
import { parseSpec, startWatching, type WatchHandle } from '../../src/sources/watch.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';
import { until } from '../helpers/until.ts';

const TEXT = readFileSync(new URL('../fixtures/txt/deb-dedication-9.0.txt', import.meta.url), 'utf8');
let p: TestPipeline;
let scratch: ReturnType<typeof scratchDir>;
const handles: WatchHandle[] = [];

beforeAll(async () => {
  p = await startPipeline({ label: 'src-guard', stages: [], env: { SLUICE_WATCH_STABLE_MS: '200' } });
  scratch = scratchDir('guard');
});

afterAll(async () => {
  for (const h of handles) await h.close();
  await p?.close();
  scratch?.cleanup();
});

function folderWith(name: string, n: number): string {
  const dir = join(scratch.dir, name);
  mkdirSync(dir);
  for (let i = 0; i < n; i++) writeFileSync(join(dir, `doc-${i}.txt`), `${name} ${i}\n${TEXT}`);
  return dir;
}

async function watch(dir: string, rt: Runtime = p.rt, opts: { owner?: string; leaseMs?: number } = {}) {
  const h = await startWatching(rt, [parseSpec(dir, '/')], { collection: 'default', ...opts });
  handles.push(h);
  return h;
}

async function settled(h: WatchHandle) {
  await h.allActive();
  for (const w of h.active.values()) await w.idle();
}

const summaryOf = async (dir: string) => (await sourceSummaries(p.rt.pool)).find((s) => s.uri === dir)!;
const statuses = async (dir: string) =>
  (
    await p.query<{ status: string }>('SELECT status FROM sluice.documents WHERE uri LIKE $1', [`${dir}/%`])
  ).map((r) => r.status);

describe('deletion sync and the mass-delete guard', () => {
  it('holds a mass deletion (every file of a folder gone), and discarding keeps the documents', async () => {
    const dir = folderWith('mass', 12);
    const h = await watch(dir);
    await settled(h);
    expect((await summaryOf(dir)).objects).toBe(12);
    for (let i = 0; i < 12; i++) unlinkSync(join(dir, `doc-${i}.txt`));
    await until('deletions held', async () => (await summaryOf(dir)).heldDeletes === 12);
    expect(await statuses(dir)).not.toContain('deleted');
    expect(await discardHeld(p.rt.pool, (await summaryOf(dir)).id)).toBe(12);
    expect(await summaryOf(dir)).toMatchObject({ heldDeletes: 0, objects: 0 });
    expect(await statuses(dir)).not.toContain('deleted');
  });

  it('applies a small deletion at once (under the guard share)', async () => {
    const dir = folderWith('few', 20);
    const h = await watch(dir);
    await settled(h);
    unlinkSync(join(dir, 'doc-3.txt'));
    unlinkSync(join(dir, 'doc-7.txt'));
    await until('two deleted', async () => (await statuses(dir)).filter((s) => s === 'deleted').length === 2);
    expect(await summaryOf(dir)).toMatchObject({ objects: 18, heldDeletes: 0, pendingDeletes: 0 });
  });

  it('removing a subfolder deletes the documents of the files in it', async () => {
    const dir = folderWith('tree', 20);
    mkdirSync(join(dir, 'old'));
    for (const n of ['x', 'y', 'z']) writeFileSync(join(dir, 'old', `${n}.txt`), `${n}\n${TEXT}`);
    const h = await watch(dir);
    await settled(h);
    expect((await summaryOf(dir)).objects).toBe(23);
    rmSync(join(dir, 'old'), { recursive: true });
    await until(
      'three deleted',
      async () => (await statuses(dir)).filter((s) => s === 'deleted').length === 3,
    );
    for (const w of h.active.values()) await w.idle();
    expect(await summaryOf(dir)).toMatchObject({ objects: 20, heldDeletes: 0, pendingDeletes: 0 });
  });

  it('with a grace period, a file that comes back keeps its document; one that stays gone is deleted', async () => {
    const dir = folderWith('grace', 3);
    const rt: Runtime = { ...p.rt, config: { ...p.config, deleteGraceMs: 1500 } };
    const h = await watch(dir, rt);
    await settled(h);
    const [before] = await p.query<{ id: string }>('SELECT id FROM sluice.documents WHERE uri = $1', [
      join(dir, 'doc-0.txt'),
    ]);
    const content = readFileSync(join(dir, 'doc-0.txt'));
    unlinkSync(join(dir, 'doc-0.txt'));
    unlinkSync(join(dir, 'doc-1.txt'));
    await until('both pending', async () => (await summaryOf(dir)).pendingDeletes === 2);
    writeFileSync(join(dir, 'doc-0.txt'), content);
    await until('doc-1 deleted after the grace period', async () =>
      (await statuses(dir)).includes('deleted'),
    );
    const rows = await p.query<{ id: string; uri: string; status: string }>(
      'SELECT id, uri, status FROM sluice.documents WHERE uri LIKE $1 ORDER BY uri',
      [`${dir}/%`],
    );
    expect(rows.map((r) => [r.uri.slice(dir.length + 1), r.status])).toEqual([
      ['doc-0.txt', 'queued'],
      ['doc-1.txt', 'deleted'],
      ['doc-2.txt', 'queued'],
    ]);
    expect(rows[0]!.id).toBe(before!.id);
  });

  it('runs one watcher per source; a standby takes over when the active one stops', async () => {
    const dir = folderWith('lease', 2);
    const first = await watch(dir, p.rt, { owner: 'first', leaseMs: 1500 });
    await settled(first);
    const second = await watch(dir, p.rt, { owner: 'second', leaseMs: 1500 });
    expect(second.active.size).toBe(0);
    expect((await summaryOf(dir)).lease_owner).toBe('first');
    await first.close();
    await settled(second);
    expect((await summaryOf(dir)).lease_owner).toBe('second');
  });
});

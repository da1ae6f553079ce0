// A watched folder with the real pipeline (Postgres, Redis, in-process workers)
// and real file-system events: drops, slow writes, edits, deletes, renames
// (zero embedding calls, counted at the embedder), temp files, a restart that
// catches up without re-hashing, symbolic links (not followed) and a symlink loop.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHashEmbedder } from '../../src/embedders/hash.ts';
import type { Embedder } from '../../src/embedders/types.ts';
import { parseSpec, startWatching, type WatchHandle } from '../../src/sources/watch.ts';
import { scratchDir } from '../helpers/corpus.ts';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.ts';
import { until } from '../helpers/until.ts';

let p: TestPipeline;
let scratch: ReturnType<typeof scratchDir>;
let root: string;
let handle: WatchHandle | undefined;
let embedCalls = 0;

function countingEmbedder(): Embedder {
  const base = createHashEmbedder({ dimensions: 64 });
  return {
    ...base,
    embed(texts, signal) {
      embedCalls++;
      return base.embed(texts, signal);
    },
  };
}

const TEXT = readFileSync(new URL('../fixtures/txt/deb-dedication-9.0.txt', import.meta.url), 'utf8');

async function doc(uri: string) {
  const [row] = await p.query<{ id: string; status: string; content_hash: string; bytes: string }>(
    'SELECT id, status, content_hash, bytes FROM sluice.documents WHERE uri = $1',
    [uri],
  );
  return row;
}

async function chunkCount(uri: string): Promise<number> {
  const [r] = await p.query<{ n: string }>(
    'SELECT count(*) AS n FROM sluice.chunks c JOIN sluice.documents d ON d.id = c.document_id WHERE d.uri = $1',
    [uri],
  );
  return Number(r?.n ?? 0);
}

const isDone = async (uri: string) => (await doc(uri))?.status === 'done' && (await chunkCount(uri)) > 0;

async function watch(): Promise<WatchHandle> {
  const h = await startWatching(p.rt, [parseSpec(root, '/')], { collection: 'default' });
  await h.allActive();
  return h;
}

const watcher = () => [...handle!.active.values()][0]!;

beforeAll(async () => {
  p = await startPipeline({
    label: 'src-folder',
    embedder: countingEmbedder(),
    env: { SLUICE_WATCH_STABLE_MS: '800', SLUICE_WATCH_RECONCILE_MS: '600000' },
  });
  scratch = scratchDir('watch');
  root = join(scratch.dir, 'docs');
  mkdirSync(root);
  writeFileSync(join(root, 'before.txt'), `present before the watch started\n${TEXT}`);
  handle = await watch();
});

afterAll(async () => {
  await handle?.close();
  await p?.close();
  scratch?.cleanup();
});

describe('folder watching', () => {
  it('ingests files present at start and files dropped while watching', async () => {
    await until('before.txt indexed', () => isDone(join(root, 'before.txt')));
    writeFileSync(join(root, 'a.txt'), `alpha document\n${TEXT}`);
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, 'sub', 'b.md'), `# Beta\n\n${TEXT}`);
    await until(
      'dropped files indexed',
      async () => (await isDone(join(root, 'a.txt'))) && isDone(join(root, 'sub', 'b.md')),
    );
  });

  it('ingests a large file written slowly in pieces once, complete', async () => {
    const path = join(root, 'slow.txt');
    const piece = `${'slowly written line of text for the stability rule\n'.repeat(2000)}`;
    const fh = await open(path, 'w');
    // A slow writer: pieces well inside the 800 ms quiet period the rule waits for.
    for (let i = 0; i < 8; i++) {
      await fh.write(`piece ${i}\n${piece}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await fh.close();
    const full = readFileSync(path);
    await until('slow.txt indexed', () => isDone(path));
    const d = await doc(path);
    expect(Number(d!.bytes)).toBe(full.byteLength);
    expect(d!.content_hash).toBe(createHash('sha256').update(full).digest('hex'));
    const runs = await p.query<{ n: string }>(
      `SELECT count(*) AS n FROM sluice.stage_runs WHERE document_id = $1 AND stage = 'extract'`,
      [d!.id],
    );
    expect(Number(runs[0]!.n)).toBe(1);
  });

  it('an edit re-ingests only that file', async () => {
    const a = join(root, 'a.txt');
    const b = join(root, 'sub', 'b.md');
    const before = await doc(b);
    const runsBefore = await p.query('SELECT id FROM sluice.stage_runs');
    writeFileSync(a, `alpha document, edited\n${TEXT}`);
    await until('a.txt re-indexed', async () => {
      const d = await doc(a);
      return (
        d?.status === 'done' && d.content_hash === createHash('sha256').update(readFileSync(a)).digest('hex')
      );
    });
    await watcher().idle();
    const newRuns = await p.query<{ document_id: string }>(
      'SELECT DISTINCT document_id FROM sluice.stage_runs WHERE NOT (id = ANY($1::bigint[]))',
      [runsBefore.map((r) => (r as { id: string }).id)],
    );
    expect(newRuns.map((r) => r.document_id)).toEqual([(await doc(a))!.id]);
    expect((await doc(b))!.content_hash).toBe(before!.content_hash);
  });

  it('a deleted file loses its document and chunks', async () => {
    const b = join(root, 'sub', 'b.md');
    unlinkSync(b);
    await until('b.md deleted', async () => (await doc(b))?.status === 'deleted');
    expect(await chunkCount(b)).toBe(0);
  });

  it('a rename keeps every embedding: zero embedding calls', async () => {
    const from = join(root, 'a.txt');
    const to = join(root, 'moved', 'a-renamed.txt');
    const chunksBefore = await chunkCount(from);
    const callsBefore = embedCalls;
    mkdirSync(join(root, 'moved'));
    renameSync(from, to);
    await until('rename followed', async () => (await isDone(to)) && (await doc(from))?.status === 'deleted');
    expect(await chunkCount(to)).toBe(chunksBefore);
    expect(embedCalls - callsBefore).toBe(0);
  });

  it('ignores editor temp files, partial downloads and dotfiles', async () => {
    for (const name of [
      'notes.txt.swp',
      'report.txt~',
      'movie.part',
      'file.crdownload',
      'x.tmp',
      '.hidden.txt',
    ]) {
      writeFileSync(join(root, name), TEXT);
    }
    writeFileSync(join(root, 'real.txt'), `a real document\n${TEXT}`);
    await until('real.txt indexed', () => isDone(join(root, 'real.txt')));
    await watcher().idle();
    const rows = await p.query<{ uri: string }>(
      `SELECT uri FROM sluice.documents WHERE uri LIKE $1 AND status <> 'deleted'`,
      [`${root}/%`],
    );
    const names = rows.map((r) => r.uri.slice(root.length + 1)).sort();
    expect(names).toEqual(['before.txt', 'moved/a-renamed.txt', 'real.txt', 'slow.txt']);
  });

  it('a restarted watcher catches up on changes made while it was down, hashing only changed files', async () => {
    await handle!.close();
    writeFileSync(join(root, 'while-down.txt'), `added while the watcher was down\n${TEXT}`);
    writeFileSync(join(root, 'real.txt'), `a real document, edited while down\n${TEXT}`);
    unlinkSync(join(root, 'slow.txt'));
    handle = await watch();
    await watcher().idle();
    // 5 files on disk, 2 new or changed: only those 2 are read.
    expect(watcher().stats.hashed).toBe(2);
    await until(
      'caught up',
      async () =>
        (await isDone(join(root, 'while-down.txt'))) &&
        (await doc(join(root, 'slow.txt')))?.status === 'deleted' &&
        (await doc(join(root, 'real.txt')))?.content_hash ===
          createHash('sha256')
            .update(readFileSync(join(root, 'real.txt')))
            .digest('hex'),
    );
  });

  it('symbolic links in the watched folder are not followed: nothing outside it is indexed', async () => {
    const outside = join(scratch.dir, 'private');
    mkdirSync(outside);
    const secret = 'SECRET-OUTSIDE-THE-WATCHED-FOLDER';
    writeFileSync(join(outside, 'secret.txt'), `${secret}\n${TEXT}`);
    symlinkSync(join(outside, 'secret.txt'), join(root, 'linked-secret.txt'));
    symlinkSync(outside, join(root, 'linked-folder'));
    writeFileSync(join(root, 'beside-links.txt'), `beside the links\n${TEXT}`);
    await watcher().reconcile();
    await until('beside-links.txt indexed', () => isDone(join(root, 'beside-links.txt')));
    await watcher().idle();
    const linked = await p.query('SELECT uri FROM sluice.documents WHERE uri LIKE $1 OR uri LIKE $2', [
      `${root}/linked-%`,
      `${outside}%`,
    ]);
    expect(linked).toEqual([]);
    const leaked = await p.query<{ n: string }>(
      'SELECT count(*) AS n FROM sluice.chunks WHERE text LIKE $1',
      [`%${secret}%`],
    );
    expect(Number(leaked[0]!.n)).toBe(0);
    unlinkSync(join(root, 'linked-secret.txt'));
    unlinkSync(join(root, 'linked-folder'));
  });

  it('a symlink loop does not hang the scan', async () => {
    const loop = join(root, 'loop');
    mkdirSync(loop);
    writeFileSync(join(loop, 'inside.txt'), `inside the loop\n${TEXT}`);
    symlinkSync(root, join(loop, 'to-root'));
    symlinkSync(loop, join(loop, 'to-self'));
    const scans = watcher().stats.scans;
    await watcher().reconcile();
    expect(watcher().stats.scans).toBe(scans + 1);
    await until('inside.txt indexed', () => isDone(join(loop, 'inside.txt')));
    const rows = await p.query<{ n: string }>(
      `SELECT count(*) AS n FROM sluice.documents WHERE uri LIKE '%inside.txt'`,
    );
    expect(Number(rows[0]!.n)).toBe(1);
    rmSync(loop, { recursive: true });
  });
});

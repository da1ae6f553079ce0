// One contract every network embedder meets (STYLE.md §3): empty input, hostile
// input, huge input, order and width, cancellation. Run against the protocol server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOllamaEmbedder } from '../../../src/embedders/ollama.ts';
import { createOpenAIEmbedder } from '../../../src/embedders/openai.ts';
import type { Embedder } from '../../../src/embedders/types.ts';
import { type EmbedServer, startEmbedServer } from '../../helpers/embed-server.ts';

let server: EmbedServer;
beforeAll(async () => {
  server = await startEmbedServer({
    latencyMs: 5,
    models: { 'text-embedding-3-small': 1536, 'all-minilm': 384 },
  });
});
afterAll(() => server.close());

const PROVIDERS: Record<string, () => Promise<Embedder>> = {
  openai: () => createOpenAIEmbedder({ baseUrl: server.openaiBaseUrl, dimensions: 128 }),
  ollama: () => createOllamaEmbedder({ host: server.url, model: 'all-minilm' }),
};

describe.each(Object.keys(PROVIDERS))('%s embedder contract', (name) => {
  const make = PROVIDERS[name]!;

  it('embeds nothing without a request', async () => {
    const before = server.requests.length;
    expect(await (await make()).embed([])).toEqual([]);
    expect(server.requests.length).toBe(before);
  });

  it('keeps order and width for hostile text (control chars, RTL, emoji, lone surrogates)', async () => {
    const e = await make();
    const texts = [
      '\u0000\u0007 nul and bell',
      'שלום עולם',
      '👩‍👩‍👧 family',
      'lone \ud800 surrogate',
      '<script>x</script>',
    ];
    const out = await e.embed(texts);
    expect(out).toHaveLength(texts.length);
    for (const v of out) expect(v.length).toBe(e.dimensions);
    expect(new Set(out.map((v) => v.join(','))).size).toBe(texts.length);
  });

  it('refuses a huge input with INPUT_TOO_LONG before sending it', async () => {
    const e = await make();
    const before = server.requests.length;
    await expect(e.embed(['token '.repeat(50_000)])).rejects.toMatchObject({ code: 'INPUT_TOO_LONG' });
    expect(server.requests.length).toBe(before);
  });

  it('stops when cancelled', async () => {
    const e = await make();
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(e.embed(['x'], ctrl.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });
});

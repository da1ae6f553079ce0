// The ollama embedder against the local server's /api/embed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashVector } from '../../../src/embedders/hash.ts';
import { createOllamaEmbedder } from '../../../src/embedders/ollama.ts';
import { type EmbedServer, startEmbedServer } from '../../helpers/embed-server.ts';

let server: EmbedServer;
beforeAll(async () => {
  server = await startEmbedServer({ maxInputTokens: 512 });
});
afterAll(() => server.close());

describe('ollama embedder', () => {
  it('embeds with a known model and never asks Ollama to truncate silently', async () => {
    const e = await createOllamaEmbedder({ host: server.url });
    expect(e.dimensions).toBe(768);
    const [v] = await e.embed(['hello there']);
    expect(Array.from(v!)).toEqual(Array.from(hashVector('hello there', 768)));
    expect(server.requests.at(-1)).toMatchObject({
      protocol: 'ollama',
      model: 'nomic-embed-text',
      status: 200,
    });
  });

  it('discovers an unknown model’s width, including with a :tag', async () => {
    const e = await createOllamaEmbedder({ host: server.url, model: 'acme-embed-v1' });
    expect(await e.resolveDimensions!()).toBe(256);
  });

  it('a missing model says to pull it', async () => {
    const e = await createOllamaEmbedder({ host: server.url, model: 'not-pulled' });
    await expect(e.embed(['x'])).rejects.toMatchObject({
      code: 'CONFIG_ERROR',
      message: expect.stringMatching(/ollama pull not-pulled/),
    });
  });

  it('estimates tokens pessimistically and enforces the input limit', async () => {
    const e = await createOllamaEmbedder({ host: server.url, model: 'all-minilm:latest' });
    expect(e.maxInputTokens).toBe(256);
    expect(e.countTokens('abcdef')).toBe(2);
    await expect(e.embed(['word '.repeat(400)])).rejects.toMatchObject({ code: 'INPUT_TOO_LONG' });
    const cut = await createOllamaEmbedder({
      host: server.url,
      model: 'nomic-embed-text',
      maxInputTokens: 100,
    });
    expect(cut.maxInputTokens).toBe(8192); // the table wins for known models
  });

  it('maps the server’s own too-long answer to INPUT_TOO_LONG', async () => {
    const e = await createOllamaEmbedder({ host: server.url, model: 'acme-embed-v1' });
    await expect(e.embed(['word '.repeat(600)])).rejects.toMatchObject({ code: 'INPUT_TOO_LONG' });
  });
});

// A wrong OPENAI_BASE_URL / OLLAMA_HOST (nothing listens there) is a configuration
// error at the first request, said at once, not minutes of retries; once the server
// has answered, a refused connection is a transient outage again.
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { hashVector } from '../../../src/embedders/hash.ts';
import { createOllamaEmbedder } from '../../../src/embedders/ollama.ts';
import { createOpenAIEmbedder } from '../../../src/embedders/openai.ts';
import { startEmbedServer } from '../../helpers/embed-server.ts';

const KEY = 'sk-test-right-key-0123456789';

/** A port on which nothing listens (bound, then released). */
async function deadPort(): Promise<number> {
  const srv: Server = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('an embedder URL where nothing listens', () => {
  it('openai: CONFIG_ERROR naming OPENAI_BASE_URL on the first request (not retried)', async () => {
    const port = await deadPort();
    const e = await createOpenAIEmbedder({ apiKey: KEY, baseUrl: `http://127.0.0.1:${port}/v1` });
    const err = (await e.embed(['x']).catch((x: unknown) => x)) as Error & {
      code: string;
      retryable: boolean;
    };
    expect({ code: err.code, retryable: err.retryable }).toEqual({ code: 'CONFIG_ERROR', retryable: false });
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).toContain('check OPENAI_BASE_URL');
  });

  it('ollama: CONFIG_ERROR naming OLLAMA_HOST', async () => {
    const port = await deadPort();
    const e = await createOllamaEmbedder({ host: `http://127.0.0.1:${port}`, model: 'nomic-embed-text' });
    await expect(e.embed(['x'])).rejects.toMatchObject({
      code: 'CONFIG_ERROR',
      message: expect.stringContaining('check OLLAMA_HOST'),
    });
  });

  it('after the server has answered once, a refused connection is retryable (an outage, not a setting)', async () => {
    const server = await startEmbedServer({ apiKey: KEY });
    const e = await createOpenAIEmbedder({ apiKey: KEY, baseUrl: server.openaiBaseUrl });
    const [v] = await e.embed(['alpha']);
    expect(Array.from(v!)).toEqual(Array.from(hashVector('alpha', 1536)));
    await server.close();
    await expect(e.embed(['beta'])).rejects.toMatchObject({ code: 'PROVIDER_ERROR', retryable: true });
  });
});

// Generation settings → the configuration that rebuilds their pipeline; build
// job ids and payloads; the price table; sample queries for `compare`.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { costOf, pricePerMTok } from '../../../src/embedders/prices.ts';
import type { GenerationInfo } from '../../../src/loaders/generations.ts';
import { queryFromText } from '../../../src/queue/compare.ts';
import { jobId, parsePayload } from '../../../src/queue/jobs.ts';
import { configFor, type PipelineSettings, settingsKey } from '../../../src/queue/pipeline.ts';
import { targetConfig } from '../../../src/queue/reindex.ts';

const config = loadConfig({ env: { OPENAI_API_KEY: 'k' }, cwd: '/' });
const openai = (model: string, dimensions: number): PipelineSettings => ({
  embedder: 'openai',
  model,
  dimensions,
  chunkSize: 800,
  chunkOverlap: 100,
});

describe('pipeline settings', () => {
  it('rebuild the configuration of a generation, everything else as configured', () => {
    const c = configFor(config, openai('text-embedding-3-small', 256));
    expect(c).toMatchObject({
      embedder: 'openai',
      embedModel: 'text-embedding-3-small',
      embedDimensions: 256,
      chunkSize: 800,
      chunkOverlap: 100,
      openaiApiKey: 'k',
    });
  });

  it('never ask a model for its native width (some refuse the option)', () => {
    expect(configFor(config, openai('text-embedding-ada-002', 1536)).embedDimensions).toBeUndefined();
    const hash = configFor(config, { ...openai('hash-v1', 384), embedder: 'hash' });
    expect(hash.embedModel).toBeUndefined();
    expect(hash.embedDimensions).toBe(384);
    // What the generation recorded wins over the guess.
    const unknown = { ...openai('acme-embed-v1', 256), requestDimensions: null };
    expect(configFor(config, unknown).embedDimensions).toBeUndefined();
  });

  it('have a key that changes with every setting but how the width is asked for', () => {
    const base = openai('text-embedding-3-small', 256);
    const keys = new Set(
      [
        base,
        { ...base, model: 'text-embedding-3-large' },
        { ...base, dimensions: 128 },
        { ...base, chunkSize: 900 },
        { ...base, chunkOverlap: 50 },
        { ...base, embedder: 'ollama' },
      ].map(settingsKey),
    );
    expect(keys.size).toBe(6);
    expect(settingsKey({ ...base, requestDimensions: 256 })).toBe(settingsKey(base));
  });
});

describe('build jobs', () => {
  const p = {
    v: 1,
    documentId: 3,
    contentHash: 'a'.repeat(64),
    collection: 'default',
    uri: '/x.txt',
  } as const;

  it('carry their generation, in the payload and the job id', () => {
    expect(parsePayload({ ...p, generation: 2 })).toEqual({ ...p, generation: 2 });
    expect(() => parsePayload({ ...p, generation: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_JOB' }),
    );
    expect(jobId('embed', { ...p, generation: 2 })).toBe(`embed-3-${'a'.repeat(64)}-g2`);
    expect(jobId('embed', p)).toBe(`embed-3-${'a'.repeat(64)}`);
  });
});

describe('prices', () => {
  it('come from the table, cost nothing locally, and are unknown otherwise unless overridden', () => {
    expect(pricePerMTok('openai', 'text-embedding-3-small')).toBe(0.02);
    expect(pricePerMTok('openai', 'text-embedding-3-large')).toBe(0.13);
    expect(pricePerMTok('hash', 'hash-v1')).toBe(0);
    expect(pricePerMTok('ollama', 'nomic-embed-text')).toBe(0);
    expect(pricePerMTok('openai', 'acme-embed-v1')).toBeNull();
    expect(pricePerMTok('openai', 'acme-embed-v1', 0.05)).toBe(0.05);
    expect(costOf(2_000_000, 0.02)).toBeCloseTo(0.04, 12);
    expect(costOf(10, null)).toBeNull();
  });
});

describe('compare', () => {
  it('draws a query from the first words of a chunk', () => {
    expect(queryFromText('  one two\nthree   four ', 3)).toBe('one two three');
  });
});

describe('reindex targets', () => {
  const gen = (patch: Partial<GenerationInfo>): GenerationInfo => ({
    name: 'default',
    generation: 1,
    dimensions: 384,
    vectorType: 'vector',
    embedder: 'hash',
    model: 'hash-v1',
    state: 'active',
    chunkSize: 1000,
    chunkOverlap: 150,
    requestDimensions: null,
    indexName: 'x',
    autoSwitch: false,
    budgetTokens: null,
    tokensEmbedded: 0,
    ...patch,
  });
  const read = (overrides: Record<string, unknown>) =>
    loadConfig({ env: { OPENAI_API_KEY: 'k' }, cwd: '/', overrides });

  it('without flags: the configured settings', () => {
    expect(targetConfig(config, gen({}), {}, read)).toBe(config);
  });

  it('with flags: the active generation changed only where the flags say', () => {
    const t = targetConfig(
      config,
      gen({ dimensions: 256, requestDimensions: 256 }),
      { chunkSize: '500' },
      read,
    );
    expect(t).toMatchObject({ embedder: 'hash', embedDimensions: 256, chunkSize: 500, chunkOverlap: 150 });
    const native = targetConfig(config, gen({}), { chunkOverlap: '50' }, read);
    expect(native.embedDimensions).toBeUndefined();
    expect(native.chunkOverlap).toBe(50);
  });

  it('a new model or embedder starts from its own native width and default model', () => {
    const small = gen({
      embedder: 'openai',
      model: 'text-embedding-3-small',
      dimensions: 64,
      requestDimensions: 64,
    });
    const large = targetConfig(config, small, { model: 'text-embedding-3-large' }, read);
    expect(large).toMatchObject({ embedder: 'openai', embedModel: 'text-embedding-3-large' });
    expect(large.embedDimensions).toBeUndefined();
    const other = targetConfig(config, gen({}), { embedder: 'openai' }, read);
    expect(other.embedder).toBe('openai');
    expect(other.embedModel).toBeUndefined();
    expect(other.embedDimensions).toBeUndefined();
  });
});

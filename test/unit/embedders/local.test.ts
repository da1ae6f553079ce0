// The local embedder cannot load real weights here (no network, none shipped),
// so this tests what a user without them sees: an exact, actionable error.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLocalEmbedder, importTransformers } from '../../../src/embedders/local.ts';

describe('local embedder without weights', () => {
  it('offline: says the weights could not be downloaded and how to use SLUICE_LOCAL_MODEL_DIR', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'sluice-hf-'));
    // Port 9 refuses connections: a deterministic stand-in for "no network".
    const err = await createLocalEmbedder({ cacheDir, remoteHost: 'http://127.0.0.1:9/' }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'CONFIG_ERROR', retryable: false });
    const msg = (err as Error).message;
    expect(msg).toMatch(/could not download the weights for local model "Xenova\/all-MiniLM-L6-v2"/);
    expect(msg).toMatch(/set SLUICE_LOCAL_MODEL_DIR to that directory/);
    expect(msg).toMatch(/config\.json, tokenizer\.json and onnx\/model\.onnx/);
  });

  it('a local model directory without the model names the directory and what it needs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-models-'));
    const err = (await createLocalEmbedder({ localModelDir: dir }).catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ code: 'CONFIG_ERROR' });
    expect(err.message).toContain(`SLUICE_LOCAL_MODEL_DIR=${dir}`);
    expect(err.message).toMatch(/must contain config\.json/);
  });
});

describe('local embedder not installed', () => {
  it('a missing @huggingface/transformers is one CONFIG_ERROR line saying how to add it', async () => {
    const missing = Object.assign(new Error("Cannot find package '@huggingface/transformers'"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const err = (await importTransformers(() => Promise.reject(missing)).catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ code: 'CONFIG_ERROR', retryable: false });
    expect(err.message).toContain('npm install @huggingface/transformers');
    expect(err.message).not.toContain('\n');
  });

  it('other import failures are not disguised', async () => {
    const boom = new Error('onnxruntime binding failed');
    await expect(importTransformers(() => Promise.reject(boom))).rejects.toBe(boom);
  });
});

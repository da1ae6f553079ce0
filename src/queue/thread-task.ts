// Worker-thread entry for the thread pool: runs one extraction or chunking task
// at a time and posts the result (or a serialised error) back.
import { parentPort } from 'node:worker_threads';
import { loadTokenizer } from '../embedders/models.ts';
import { pickExtractor } from '../extractors/index.ts';
import { attachmentAt } from '../extractors/mail-attachments.ts';
import { chunkDocument } from '../transforms/chunk.ts';
import { cleanDocument } from '../transforms/clean.ts';
import { assessQuality } from '../transforms/quality.ts';
import type { ThreadTask } from './thread-pool.ts';

async function runTask(task: ThreadTask): Promise<unknown> {
  if (task.kind === 'extract') {
    const extractor = pickExtractor(task.mime);
    const doc = await extractor.extract({
      bytes: task.bytes,
      mime: task.mime,
      limits: task.limits,
      ...(task.filename === undefined ? {} : { filename: task.filename }),
    });
    // Judged before cleaning, which would hide the control bytes that betray garbage.
    const quality = assessQuality(doc);
    const cleaned = cleanDocument(doc);
    return { ...cleaned, metadata: { ...cleaned.metadata, quality } };
  }
  if (task.kind === 'attachment') return attachmentAt(task.bytes, task.path);
  // Functions cannot cross into the thread: the tokenizer comes by name and is built here (once per thread).
  const name = task.tokenizer ?? task.options.tokenizer;
  if (name === undefined) return chunkDocument(task.doc, task.options);
  const { count } = await loadTokenizer(name);
  return chunkDocument(task.doc, { ...task.options, tokenizer: name, countTokens: count });
}

parentPort?.on('message', (task: ThreadTask) => {
  runTask(task).then(
    (value) => parentPort?.postMessage({ ok: true, value }),
    (err: Error & { code?: unknown; retryable?: unknown }) =>
      parentPort?.postMessage({
        ok: false,
        error: {
          name: err?.name,
          code: typeof err?.code === 'string' ? err.code : undefined,
          message: err?.message ?? String(err),
          retryable: typeof err?.retryable === 'boolean' ? err.retryable : undefined,
        },
      }),
  );
});

// Modules are loaded: tell the pool, which starts task timers only from here.
parentPort?.postMessage({ ready: true });

// A small pool of worker threads for CPU-bound stage work (extraction, cleaning,
// chunking). Parsing untrusted files off the main thread keeps BullMQ's lock
// renewal alive, and each task gets a time limit (the thread is terminated →
// TIMEOUT) and a heap ceiling (resourceLimits → TOO_LARGE) without hurting the
// worker process or other documents.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { isErrorCode, SluiceError } from '../errors.ts';
import type { ExtractedDocument, ExtractLimits } from '../extractors/types.ts';
import type { Chunk, ChunkOptions } from '../transforms/chunk.ts';

export type ThreadTask =
  | { kind: 'extract'; bytes: Uint8Array; mime: string; filename?: string; limits: ExtractLimits }
  /** The bytes of a mail attachment: `path` is attachment indexes from the root message down. */
  | { kind: 'attachment'; bytes: Uint8Array; path: number[] }
  | {
      kind: 'chunk';
      doc: ExtractedDocument;
      options: Omit<ChunkOptions, 'lengthFunction' | 'countTokens'>;
      tokenizer?: string;
    };

type TaskResult<T extends ThreadTask> = T extends { kind: 'extract' }
  ? ExtractedDocument
  : T extends { kind: 'attachment' }
    ? Uint8Array
    : Chunk[];

export interface ThreadPoolOptions {
  threads: number;
  timeoutMs: number;
  memoryMb: number;
}

interface Pending {
  task: ThreadTask;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  signal?: AbortSignal;
  /** This task's time limit, when it differs from the pool's (an OCR'd PDF). */
  timeoutMs?: number;
}

interface Slot {
  worker: Worker;
  /** Set once the thread has loaded its modules: boot time never counts against a task's limit. */
  ready: boolean;
  busy?: { pending: Pending; timer: NodeJS.Timeout; onAbort: () => void };
}

const here = fileURLToPath(import.meta.url);
const TASK_FILE = new URL(`./thread-task${extname(here)}`, import.meta.url);

export interface ThreadPool {
  run<T extends ThreadTask>(task: T, signal?: AbortSignal, timeoutMs?: number): Promise<TaskResult<T>>;
  close(): Promise<void>;
}

export function createThreadPool(opts: ThreadPoolOptions): ThreadPool {
  const slots: Slot[] = [];
  const queue: Pending[] = [];
  let closed = false;

  function spawn(): Slot {
    const worker = new Worker(TASK_FILE, {
      resourceLimits: { maxOldGenerationSizeMb: opts.memoryMb, maxYoungGenerationSizeMb: 16 },
      stdout: false,
      stderr: false,
    });
    worker.unref();
    const slot: Slot = { worker, ready: false };
    worker.on(
      'message',
      (msg: { ready?: boolean; ok?: boolean; value?: unknown; error?: SerializedError }) => {
        if (msg.ready) {
          slot.ready = true;
          pump();
          return;
        }
        const busy = slot.busy;
        if (!busy) return;
        finish(slot);
        if (msg.ok) busy.pending.resolve(msg.value);
        else busy.pending.reject(deserialize(msg.error));
        pump();
      },
    );
    worker.on('error', (err: Error & { code?: string }) => {
      const busy = slot.busy;
      replace(slot);
      if (busy) {
        const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
        busy.pending.reject(
          oom
            ? new SluiceError('TOO_LARGE', `parsing needed more than the ${opts.memoryMb} MB memory ceiling`)
            : new SluiceError('INTERNAL', `extraction thread crashed: ${err.message}`, { retryable: false }),
        );
      }
      pump();
    });
    slots.push(slot);
    return slot;
  }

  function finish(slot: Slot): void {
    if (!slot.busy) return;
    clearTimeout(slot.busy.timer);
    slot.worker.unref();
    slot.busy.pending.signal?.removeEventListener('abort', slot.busy.onAbort);
    slot.busy = undefined;
  }

  function replace(slot: Slot): void {
    finish(slot);
    slots.splice(slots.indexOf(slot), 1);
    void slot.worker.terminate();
  }

  function pump(): void {
    if (closed) return;
    while (queue.length > 0) {
      const slot = slots.find((s) => s.ready && !s.busy);
      if (!slot) {
        // A new thread picks the queue up once it reports ready.
        if (slots.filter((s) => !s.ready).length < queue.length && slots.length < opts.threads) spawn();
        return;
      }
      const pending = queue.shift()!;
      if (pending.signal?.aborted) {
        pending.reject(new SluiceError('TIMEOUT', 'task was cancelled before it started'));
        continue;
      }
      start(slot, pending);
    }
  }

  function start(slot: Slot, pending: Pending): void {
    const kill = (err: SluiceError) => {
      replace(slot);
      pending.reject(err);
      pump();
    };
    const limit = pending.timeoutMs ?? opts.timeoutMs;
    const timer = setTimeout(
      () => kill(new SluiceError('TIMEOUT', `${pending.task.kind} took longer than ${limit} ms`)),
      limit,
    );
    const onAbort = () =>
      kill(new SluiceError('TIMEOUT', `${pending.task.kind} was cancelled`, { retryable: true }));
    pending.signal?.addEventListener('abort', onAbort, { once: true });
    slot.busy = { pending, timer, onAbort };
    slot.worker.ref();
    const transfer =
      (pending.task.kind === 'extract' || pending.task.kind === 'attachment') &&
      pending.task.bytes.byteOffset === 0
        ? [pending.task.bytes.buffer as ArrayBuffer]
        : [];
    slot.worker.postMessage(pending.task, transfer);
  }

  return {
    run(task, signal, timeoutMs) {
      if (closed) return Promise.reject(new SluiceError('INTERNAL', 'thread pool is closed'));
      return new Promise((resolve, reject) => {
        queue.push({
          task,
          resolve: resolve as (v: unknown) => void,
          reject,
          ...(signal ? { signal } : {}),
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
        });
        pump();
      });
    },
    async close() {
      closed = true;
      for (const p of queue.splice(0))
        p.reject(new SluiceError('INTERNAL', 'thread pool closed', { retryable: true }));
      await Promise.all(slots.splice(0).map((s) => s.worker.terminate()));
    },
  };
}

export interface SerializedError {
  name?: string;
  code?: string;
  message: string;
  retryable?: boolean;
}

function deserialize(e: SerializedError | undefined): Error {
  if (e && isErrorCode(e.code)) {
    return new SluiceError(e.code, e.message, e.retryable === undefined ? {} : { retryable: e.retryable });
  }
  return new SluiceError('INTERNAL', e?.message ?? 'unknown error in extraction thread', {
    retryable: false,
  });
}

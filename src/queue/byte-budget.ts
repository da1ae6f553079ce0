// A counting semaphore measured in bytes: how much source data one process holds
// between reading a document and storing its extraction. A big text file is held
// several times over on the way (bytes, decoded text, the returned sections, their
// JSON), so four 42 MB files at once came close to the heap limit; with a budget
// they take turns while small documents still run side by side.

export interface ByteBudget {
  /**
   * Waits until `bytes` fit (a request over the limit waits until nothing else is
   * held, then runs alone) and returns the release function. Requests are served
   * in arrival order, so a big file is not starved by a stream of small ones.
   */
  acquire(bytes: number, signal?: AbortSignal): Promise<() => void>;
  readonly limit: number;
  /** Bytes held now. */
  readonly held: number;
  /** Most bytes ever held at once (for tests and metrics). */
  readonly peak: number;
}

interface Waiter {
  bytes: number;
  grant: () => void;
}

export function createByteBudget(limit: number): ByteBudget {
  let held = 0;
  let peak = 0;
  const queue: Waiter[] = [];

  const take = (bytes: number) => {
    held += bytes;
    peak = Math.max(peak, held);
  };
  const pump = () => {
    while (queue.length > 0 && held + queue[0]!.bytes <= limit) {
      const w = queue.shift()!;
      take(w.bytes);
      w.grant();
    }
  };
  const releaser = (bytes: number) => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      held -= bytes;
      pump();
    };
  };

  return {
    limit,
    get held() {
      return held;
    },
    get peak() {
      return peak;
    },
    acquire(requested, signal) {
      signal?.throwIfAborted();
      const bytes = Math.max(0, Math.min(requested, limit));
      if (queue.length === 0 && held + bytes <= limit) {
        take(bytes);
        return Promise.resolve(releaser(bytes));
      }
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          const i = queue.indexOf(w);
          if (i >= 0) queue.splice(i, 1);
          pump();
          reject(signal?.reason);
        };
        const w: Waiter = {
          bytes,
          grant: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve(releaser(bytes));
          },
        };
        queue.push(w);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}

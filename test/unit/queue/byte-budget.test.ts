// The extract stage's byte budget: how many source bytes are held at once, in
// arrival order, with a file over the limit running alone.
import { describe, expect, it } from 'vitest';
import { createByteBudget } from '../../../src/queue/byte-budget.ts';

/** Whether a promise has settled by the time queued microtasks have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
}

describe('byte budget', () => {
  it('holds no more than its limit: the third 42-unit file waits until one is released', async () => {
    const budget = createByteBudget(100);
    const a = await budget.acquire(42);
    const b = await budget.acquire(42);
    const c = budget.acquire(42);
    expect(await settled(c)).toBe(false);
    expect(budget.held).toBe(84);
    a();
    const releaseC = await c;
    expect(budget.held).toBe(84);
    b();
    releaseC();
    expect(budget.held).toBe(0);
    expect(budget.peak).toBe(84);
  });

  it('a request over the limit waits for everything else, then runs alone', async () => {
    const budget = createByteBudget(100);
    const small = await budget.acquire(10);
    const huge = budget.acquire(500);
    expect(await settled(huge)).toBe(false);
    small();
    const releaseHuge = await huge;
    expect(budget.held).toBe(100);
    const next = budget.acquire(1);
    expect(await settled(next)).toBe(false);
    releaseHuge();
    (await next)();
    expect(budget.peak).toBe(100);
  });

  it('serves in arrival order: small requests do not overtake a waiting big one', async () => {
    const budget = createByteBudget(100);
    const first = await budget.acquire(60);
    const big = budget.acquire(80);
    const small = budget.acquire(10);
    expect(await settled(small)).toBe(false);
    first();
    (await big)();
    (await small)();
    expect(budget.held).toBe(0);
  });

  it('releasing twice frees once; an aborted waiter leaves the queue', async () => {
    const budget = createByteBudget(100);
    const a = await budget.acquire(70);
    const ac = new AbortController();
    const waiting = budget.acquire(50, ac.signal);
    ac.abort(new Error('closing'));
    await expect(waiting).rejects.toThrow('closing');
    a();
    a();
    expect(budget.held).toBe(0);
    (await budget.acquire(100))();
  });
});

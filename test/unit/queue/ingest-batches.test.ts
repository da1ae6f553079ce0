// The producer's batches (issue #15): bounded in size, and a uri never twice in one
// batch (one statement cannot update a row twice), in input order.
import { describe, expect, it } from 'vitest';
import { batchesOf, type HashedItem } from '../../../src/queue/producer.ts';

const item = (uri: string): HashedItem => ({ uri, bytes: 1, hash: 'a'.repeat(64) });

describe('batchesOf', () => {
  it('cuts items into batches of at most the size, in order', () => {
    const items = Array.from({ length: 1201 }, (_, i) => item(`/d/${i}`));
    const batches = batchesOf(items, 500);
    expect(batches.map((b) => b.length)).toEqual([500, 500, 201]);
    expect(batches.flat()).toEqual(items);
  });

  it('starts a new batch where a uri repeats', () => {
    const batches = batchesOf([item('/a'), item('/b'), item('/a'), item('/c')], 500);
    expect(batches.map((b) => b.map((i) => i.uri))).toEqual([
      ['/a', '/b'],
      ['/a', '/c'],
    ]);
  });

  it('gives no batch for no items', () => {
    expect(batchesOf([], 500)).toEqual([]);
  });
});

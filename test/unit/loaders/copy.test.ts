// Binary COPY encoding: checked byte for byte against Postgres' documented format.
import { describe, expect, it } from 'vitest';
import { CopyWriter, coalesce, encodeVector, vectorDims } from '../../../src/loaders/copy.ts';

describe('binary COPY writer', () => {
  it('writes the signature, one row of typed fields and the trailer', () => {
    const w = new CopyWriter();
    w.row([{ t: 'int4', v: 7 }, { t: 'text', v: 'hé' }, { t: 'null' }, { t: 'jsonb', v: { a: 1 } }]);
    const buf = Buffer.concat(w.finish());
    expect(buf.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0');
    expect(buf.readInt32BE(11)).toBe(0); // flags
    expect(buf.readInt32BE(15)).toBe(0); // header extension
    let o = 19;
    expect(buf.readInt16BE(o)).toBe(4);
    o += 2;
    expect([buf.readInt32BE(o), buf.readInt32BE(o + 4)]).toEqual([4, 7]);
    o += 8;
    expect(buf.readInt32BE(o)).toBe(3);
    expect(buf.subarray(o + 4, o + 7).toString('utf8')).toBe('hé');
    o += 7;
    expect(buf.readInt32BE(o)).toBe(-1);
    o += 4;
    const jsonLen = buf.readInt32BE(o);
    expect(buf[o + 4]).toBe(1); // jsonb version
    expect(buf.subarray(o + 5, o + 4 + jsonLen).toString()).toBe('{"a":1}');
    o += 4 + jsonLen;
    expect(buf.readInt16BE(o)).toBe(-1);
    expect(o + 2).toBe(buf.length);
    expect(w.byteLength).toBe(buf.length);
  });

  it('encodes vectors in pgvector binary form', () => {
    const v = encodeVector([1, -0.5]);
    expect(vectorDims(v)).toBe(2);
    expect(v.readInt16BE(2)).toBe(0);
    expect([v.readFloatBE(4), v.readFloatBE(8)]).toEqual([1, -0.5]);
  });
});

describe('coalesce', () => {
  it('joins small buffers into batches of about the given size without losing bytes', () => {
    const parts = Array.from({ length: 100 }, (_, i) => Buffer.from([i, i]));
    const out = coalesce(parts, 50);
    expect(out.length).toBe(4);
    expect(Buffer.concat(out)).toEqual(Buffer.concat(parts));
    expect(coalesce([], 10)).toEqual([]);
  });
});

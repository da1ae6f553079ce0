// The shared extractor contract: every extractor (text, markdown, html, pdf, docx…)
// runs this suite — empty input, huge input against limits, garbage bytes, an
// aborted signal, and one real sample that must produce text.
import { describe, expect, it } from 'vitest';
import { errorCodeOf, isErrorCode } from '../../../src/errors.ts';
import { DEFAULT_LIMITS, type ExtractedDocument, type Extractor } from '../../../src/extractors/types.ts';

export interface ContractOptions {
  /** A real document of the extractor's format. */
  sample: Uint8Array;
  /** The content type to pass with the sample (as sniffed). */
  mime: string;
  /** Milliseconds allowed for the garbage case (a hang fails the test). */
  garbageTimeoutMs?: number;
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function garbageBytes(length: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function textOf(doc: ExtractedDocument): string {
  return doc.sections.map((s) => s.text).join('\n');
}

async function codeOfRejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return errorCodeOf(err);
  }
  return 'RESOLVED';
}

/** Register the contract tests for `extractor` in the calling test file. */
export function runExtractorContract(extractor: Extractor, opts: ContractOptions): void {
  const { sample, mime } = opts;
  describe(`extractor contract: ${extractor.name}`, () => {
    it('declares a name, a version and the content type it is tested with', () => {
      expect(extractor.name).toMatch(/^[a-z0-9-]+$/);
      expect(Number.isInteger(extractor.version) && extractor.version > 0).toBe(true);
      expect(extractor.mimeTypes).toContain(mime);
    });

    it('extracts text from the sample', async () => {
      const doc = await extractor.extract({ bytes: sample, mime, limits: DEFAULT_LIMITS });
      expect(doc.sections.length).toBeGreaterThan(0);
      expect(textOf(doc).trim().length).toBeGreaterThan(0);
      expect(() => JSON.stringify(doc.metadata)).not.toThrow();
      for (const s of doc.sections) expect(typeof s.text).toBe('string');
    });

    it('rejects empty input with NO_TEXT or CORRUPT_FILE', async () => {
      const code = await codeOfRejection(
        extractor.extract({ bytes: new Uint8Array(0), mime, limits: DEFAULT_LIMITS }),
      );
      expect(['NO_TEXT', 'CORRUPT_FILE']).toContain(code);
    });

    it('rejects input over limits.maxBytes with TOO_LARGE', async () => {
      const limits = { ...DEFAULT_LIMITS, maxBytes: Math.max(1, sample.length - 1) };
      const code = await codeOfRejection(extractor.extract({ bytes: sample, mime, limits }));
      expect(code).toBe('TOO_LARGE');
    });

    it('rejects text over limits.maxTextChars with TOO_LARGE', async () => {
      const limits = { ...DEFAULT_LIMITS, maxTextChars: 3 };
      const code = await codeOfRejection(extractor.extract({ bytes: sample, mime, limits }));
      expect(code).toBe('TOO_LARGE');
    });

    it(
      'rejects garbage bytes with a SluiceError code, without crashing or hanging',
      async () => {
        for (const seed of [1, 2, 3]) {
          const bytes = garbageBytes(64 * 1024, seed);
          let caught: unknown;
          try {
            await extractor.extract({ bytes, mime, limits: DEFAULT_LIMITS });
          } catch (err) {
            caught = err;
          }
          expect(caught, `seed ${seed} was accepted`).toBeDefined();
          const e = caught as { name?: unknown; code?: unknown };
          expect(e.name).toBe('SluiceError');
          expect(isErrorCode(e.code)).toBe(true);
          expect(e.code).not.toBe('INTERNAL');
        }
      },
      opts.garbageTimeoutMs ?? 20_000,
    );

    it('rejects when the signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(
        extractor.extract({ bytes: sample, mime, limits: DEFAULT_LIMITS, signal: controller.signal }),
      ).rejects.toBeDefined();
    });
  });
}

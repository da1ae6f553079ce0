// Error codes decide retry behaviour, including for errors that lost their class.
import { describe, expect, it } from 'vitest';
import { errorCodeOf, isRetryable, SluiceError } from '../../src/errors.ts';
import { redact } from '../../src/log.ts';
import { escapeControls } from '../../src/terminal-text.ts';

describe('error codes', () => {
  it('permanent codes are not retried, transient ones are', () => {
    expect(isRetryable(new SluiceError('CORRUPT_FILE', 'x'))).toBe(false);
    expect(isRetryable(new SluiceError('RATE_LIMITED', 'x'))).toBe(true);
    expect(isRetryable(new SluiceError('TIMEOUT', 'x', { retryable: true }))).toBe(true);
  });

  it('works on plain objects from other threads and on network errors', () => {
    expect(errorCodeOf({ name: 'SluiceError', code: 'NO_TEXT', message: 'm' })).toBe('NO_TEXT');
    expect(isRetryable({ code: 'NO_TEXT' })).toBe(false);
    expect(errorCodeOf(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(
      'CONNECTION_ERROR',
    );
    expect(errorCodeOf({ code: '57P01' })).toBe('CONNECTION_ERROR');
    expect(errorCodeOf(new Error('boom'))).toBe('INTERNAL');
  });
});

describe('log hygiene', () => {
  it('redacts URL passwords, API keys and named secrets', () => {
    const line = redact(
      'connect postgresql://u:pw1234@h/db redis://:redispw@h:1 key sk-abcdefghijkl token=zzz',
      ['extra-secret'],
    );
    expect(line).not.toMatch(/pw1234|redispw|abcdefghijkl|zzz/);
    expect(redact('value extra-secret here', ['extra-secret'])).toBe('value *** here');
  });

  it('escapes control characters and bidi overrides in names shown on a terminal', () => {
    expect(escapeControls('a\nb\u202Ec\u0007')).toBe('a\\nb\\u{202e}c\\u{7}');
  });
});

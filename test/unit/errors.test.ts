// Error codes decide retry behaviour, including for errors that lost their class.
import { describe, expect, it } from 'vitest';
import { errorCodeOf, isConnectionError, isRedisFull, isRetryable, SluiceError } from '../../src/errors.ts';
import { redact } from '../../src/log.ts';
import { escapeControls } from '../../src/terminal-text.ts';

describe('isConnectionError', () => {
  const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  it('knows an unreachable or lost server, also behind a cause', () => {
    for (const code of [
      '08006',
      '08001',
      '57P01',
      '57P02',
      '57P03',
      '53300',
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
    ])
      expect([code, isConnectionError(withCode(code))]).toEqual([code, true]);
    expect(isConnectionError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(
      isConnectionError(new Error('Client has encountered a connection error and is not queryable')),
    ).toBe(true);
    const wrapped = new SluiceError('CONNECTION_ERROR', 'cannot reach Postgres', {
      cause: withCode('ECONNREFUSED'),
    });
    expect(isConnectionError(wrapped)).toBe(true);
  });
  it("leaves a document's own failures and other database errors alone", () => {
    expect(isConnectionError(withCode('23505'))).toBe(false); // unique_violation
    expect(isConnectionError(withCode('P0001'))).toBe(false);
    expect(isConnectionError(new SluiceError('CORRUPT_FILE', 'x'))).toBe(false);
    expect(isConnectionError(undefined)).toBe(false);
  });
});

describe('isRedisFull', () => {
  it("knows Redis's refusal at maxmemory, from a command or inside a script", () => {
    expect(isRedisFull(new Error("OOM command not allowed when used memory > 'maxmemory'."))).toBe(true);
    expect(
      isRedisFull(
        new Error(
          "OOM command not allowed when used memory > 'maxmemory'. script: c35b, on @user_script:27.",
        ),
      ),
    ).toBe(true);
    expect(isRedisFull(new Error('ERR value is not an integer or out of range'))).toBe(false);
  });
});

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

describe('connection errors (isConnectionError)', () => {
  // What node-postgres throws when Postgres or a pooler refuses or drops a connection.
  const pgError = (code: string, message: string) =>
    Object.assign(new Error(message), { code, severity: 'FATAL' });

  it('a full or starting Postgres is a transient connection error, not INTERNAL', () => {
    for (const e of [
      pgError('53300', 'sorry, too many clients already'),
      pgError('53300', 'remaining connection slots are reserved for non-replication superuser connections'),
      pgError('57P03', 'the database system is starting up'),
      pgError('08P01', 'no more connections allowed (max_client_conn)'), // pgbouncer
      pgError('08006', 'connection failure'),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
    ]) {
      expect(isConnectionError(e), e.message).toBe(true);
      expect(errorCodeOf(e), e.message).toBe('CONNECTION_ERROR');
      expect(isRetryable(e)).toBe(true);
    }
  });

  it('looks through wrapped causes and serialised errors, and leaves other failures alone', () => {
    const wrapped = new Error('load failed', { cause: pgError('53300', 'sorry, too many clients already') });
    expect(isConnectionError(wrapped)).toBe(true);
    expect(isConnectionError({ code: '57P03', message: 'the database system is starting up' })).toBe(true);
    expect(isConnectionError(new SluiceError('CONNECTION_ERROR', 'x'))).toBe(true);
    expect(isConnectionError(pgError('23505', 'duplicate key value violates unique constraint'))).toBe(false);
    expect(isConnectionError(pgError('40P01', 'deadlock detected'))).toBe(false);
    expect(
      isConnectionError(
        new SluiceError('CORRUPT_FILE', 'bad', { cause: new Error('Connection terminated') }),
      ),
    ).toBe(false);
    expect(isConnectionError(new Error('boom'))).toBe(false);
    expect(isConnectionError(undefined)).toBe(false);
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

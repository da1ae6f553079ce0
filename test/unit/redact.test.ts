// The redactor hides credentials in free text without mangling the words around
// them: real Postgres, Redis and ioredis error texts must read as the servers wrote them.
import { describe, expect, it } from 'vitest';
import { redact } from '../../src/log.ts';

describe('redact leaves ordinary server messages alone', () => {
  it.each([
    'password authentication failed for user "sluice"',
    'FATAL:  password authentication failed for user "postgres"',
    'no pg_hba.conf entry for host "10.0.0.7", user "sluice", database "rag", no encryption',
    'WRONGPASS invalid username-password pair or user is disabled.',
    'NOAUTH Authentication required.',
    'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    'Reached the max retries per request limit (which is 20). Refer to "maxRetriesPerRequest" option for details.',
    "This model's maximum context length is 8192 tokens, however you requested 9000 tokens",
    'the secret to good chunking is overlap; token counts come from js-tiktoken',
  ])('%s', (text) => {
    expect(redact(text)).toBe(text);
  });
});

describe('redact hides secrets', () => {
  it('URL passwords, keeping the user and host', () => {
    expect(redact('cannot reach postgresql://sluice:s3cr3t!@db.internal:5432/rag')).toBe(
      'cannot reach postgresql://sluice:***@db.internal:5432/rag',
    );
    expect(redact('connect redis://:hunter22@127.0.0.1:6380/0 failed')).toBe(
      'connect redis://:***@127.0.0.1:6380/0 failed',
    );
  });

  it('API keys and bearer tokens', () => {
    expect(redact('Incorrect API key provided: sk-proj-abcdefghijklmnop1234.')).toBe(
      'Incorrect API key provided: sk-***.',
    );
    expect(redact('Authorization: Bearer abcdefghijklmnop.qrstu')).not.toContain('abcdefghijklmnop');
  });

  it('key=value and JSON secrets', () => {
    expect(redact('dsn host=db user=sluice password=hunter22 dbname=rag')).toBe(
      'dsn host=db user=sluice password=*** dbname=rag',
    );
    expect(redact('GET /v1?api_key=abc123&q=x')).toBe('GET /v1?api_key=***&q=x');
    expect(redact('{"token":"t0ps3cret","n":1}')).toBe('{"token":"***","n":1}');
    expect(redact('client_secret: zzz999')).toBe('client_secret: ***');
  });

  it('known secret values wherever they appear', () => {
    expect(redact('value extra-secret here', ['extra-secret'])).toBe('value *** here');
  });
});

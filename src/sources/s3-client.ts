// The S3 client (AWS SDK v3, loaded lazily) for any S3-compatible endpoint, and
// the translation of its failures into one line that names the bucket and says
// what to check. Credentials come from the SDK's standard chain (env, profile,
// SSO, instance role); region and endpoint from config (AWS_REGION,
// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL).
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config.ts';
import { SluiceError } from '../errors.ts';

export type S3Settings = Pick<Config, 'awsRegion' | 's3Endpoint' | 'awsEndpoint' | 's3PathStyle'>;

const clients = new Map<string, Promise<S3Client>>();

/** One client per endpoint/region/addressing per process (it pools its connections). */
export function s3Client(settings: S3Settings): Promise<S3Client> {
  const endpoint = settings.s3Endpoint ?? settings.awsEndpoint;
  // Another endpoint (MinIO, R2, Ceph...) usually wants path-style addressing and has no region of its own.
  const pathStyle = settings.s3PathStyle ?? endpoint !== undefined;
  const region = settings.awsRegion ?? (endpoint ? 'us-east-1' : undefined);
  const key = JSON.stringify([endpoint, region, pathStyle]);
  let client = clients.get(key);
  if (!client) {
    client = import('@aws-sdk/client-s3').then(
      ({ S3Client: Client }) =>
        new Client({
          ...(region ? { region } : {}),
          ...(endpoint ? { endpoint } : {}),
          forcePathStyle: pathStyle,
          // Several S3-compatible servers mishandle the SDK's default streaming checksums.
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
          maxAttempts: 3,
        }),
    );
    clients.set(key, client);
  }
  return client;
}

/** Where requests go, for error messages. */
export function endpointLabel(settings: S3Settings): string {
  return settings.s3Endpoint ?? settings.awsEndpoint ?? `AWS S3 (${settings.awsRegion ?? 'default region'})`;
}

interface AwsError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  Code?: string;
}

/** The S3 error code of an SDK failure (NoSuchKey, AccessDenied...), or a network code. */
export function s3ErrorName(err: unknown): string {
  const e = err as AwsError;
  return e?.Code ?? e?.name ?? e?.code ?? 'Error';
}

/**
 * One clear SluiceError for a failed S3 call about `what` (s3://bucket/prefix):
 * missing bucket and denied access are configuration errors (exit 2, not retried),
 * an unreachable endpoint is a connection error (retried by workers).
 */
export function s3Failure(err: unknown, what: string, settings: S3Settings): SluiceError {
  const e = err as AwsError;
  const name = s3ErrorName(err);
  const status = e?.$metadata?.httpStatusCode;
  const where = endpointLabel(settings);
  if (name === 'NoSuchBucket') {
    return new SluiceError(
      'CONFIG_ERROR',
      `${what}: the bucket does not exist at ${where}; check the bucket name and AWS_ENDPOINT_URL_S3/AWS_REGION`,
      { cause: err },
    );
  }
  if (
    name === 'AccessDenied' ||
    name === 'Forbidden' ||
    status === 403 ||
    name === 'InvalidAccessKeyId' ||
    name === 'SignatureDoesNotMatch'
  ) {
    return new SluiceError(
      'CONFIG_ERROR',
      `${what}: access denied by ${where} (${name}); check the credentials (AWS_ACCESS_KEY_ID/AWS_PROFILE) and the bucket policy`,
      { cause: err },
    );
  }
  if (name === 'CredentialsProviderError' || /credential/i.test(e?.message ?? '')) {
    return new SluiceError(
      'CONFIG_ERROR',
      `${what}: no AWS credentials found; set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE`,
      { cause: err },
    );
  }
  if (/region is missing/i.test(e?.message ?? '')) {
    return new SluiceError('CONFIG_ERROR', `${what}: no AWS region configured; set AWS_REGION`, {
      cause: err,
    });
  }
  if (
    status === undefined ||
    status >= 500 ||
    ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'TimeoutError'].includes(name)
  ) {
    const detail = e?.message || name;
    return new SluiceError(
      'CONNECTION_ERROR',
      `${what}: cannot reach ${where} (${detail}); check AWS_ENDPOINT_URL_S3 and that the server is running`,
      { cause: err },
    );
  }
  return new SluiceError('PROVIDER_ERROR', `${what}: S3 answered ${status} ${name}: ${e?.message ?? ''}`, {
    cause: err,
  });
}

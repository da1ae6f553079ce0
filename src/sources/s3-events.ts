// Optional S3 event notifications through SQS (SLUICE_S3_SQS_URL): the bucket
// sends ObjectCreated/ObjectRemoved events to a queue; an event for a watched
// prefix triggers that source's listing at once instead of at the next poll.
// The listing stays the only authority (events can be lost, duplicated or
// reordered), so the poll remains the safety net.
import type { Config } from '../config.ts';
import { messageOf } from '../errors.ts';
import type { Logger } from '../log.ts';
import { parseS3Uri } from './s3.ts';

interface S3EventRecord {
  s3?: { bucket?: { name?: string }; object?: { key?: string } };
}

/** Bucket and (URL-decoded) key of each record of an S3 event notification body. */
export function eventObjects(body: string): { bucket: string; key: string }[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  // Direct S3 → SQS, or wrapped once by SNS (its Message field holds the S3 event).
  const msg = (parsed as { Message?: unknown }).Message;
  if (typeof msg === 'string') return eventObjects(msg);
  const records = (parsed as { Records?: S3EventRecord[] }).Records;
  if (!Array.isArray(records)) return [];
  return records.flatMap((r) => {
    const bucket = r.s3?.bucket?.name;
    const key = r.s3?.object?.key;
    if (typeof bucket !== 'string' || typeof key !== 'string') return [];
    // Keys in S3 events are URL-encoded with `+` for spaces.
    return [{ bucket, key: decodeURIComponent(key.replace(/\+/g, ' ')) }];
  });
}

export interface EventListener {
  close(): Promise<void>;
}

/**
 * Long-polls the queue and calls `onChange(sourceUri)` for every watched
 * source an event falls under. Messages are deleted once handed on.
 */
export function listenForS3Events(
  config: Config,
  queueUrl: string,
  sources: string[],
  onChange: (sourceUri: string) => void,
  log: Logger,
): EventListener {
  const watched = sources.map((uri) => ({ uri, ...parseS3Uri(uri) }));
  const abort = new AbortController();
  let failing = false;
  const loop = async () => {
    const { SQSClient, ReceiveMessageCommand, DeleteMessageBatchCommand } = await import(
      '@aws-sdk/client-sqs'
    );
    const endpoint = config.awsEndpoint;
    const region = config.awsRegion ?? (endpoint ? 'us-east-1' : undefined);
    const client = new SQSClient({ ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}) });
    while (!abort.signal.aborted) {
      try {
        const res = await client.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 10 }),
          { abortSignal: abort.signal },
        );
        failing = false;
        const messages = res.Messages ?? [];
        const hit = new Set<string>();
        for (const m of messages) {
          for (const o of eventObjects(m.Body ?? '')) {
            for (const w of watched) if (o.bucket === w.bucket && o.key.startsWith(w.key)) hit.add(w.uri);
          }
        }
        for (const uri of hit) onChange(uri);
        if (messages.length > 0) {
          await client.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            }),
          );
        }
      } catch (err) {
        if (abort.signal.aborted) break;
        if (!failing)
          log.warn(`S3 events from ${queueUrl}: ${messageOf(err)}; the poll still picks up changes`);
        failing = true;
        await new Promise((r) => setTimeout(r, 5000));
      }
    }
    client.destroy();
  };
  const running = loop();
  return {
    async close() {
      abort.abort();
      await running.catch(() => undefined);
    },
  };
}

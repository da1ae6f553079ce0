// HTTP upload: `POST /v1/documents` (multipart/form-data parsed as a stream by
// busboy, or a raw body) stores the file in the inbox and queues it, answering
// 202 with the document id; `GET /v1/documents/:id` gives its status. A Hono
// sub-app, so `sluice serve` and the dashboard server can both mount it.
// Request bodies are never logged.
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import { messageOf, SluiceError } from '../errors.ts';
import { getDocument } from '../loaders/documents.ts';
import { mergeDocumentMetadata } from '../loaders/sources.ts';
import { ingestHashed } from '../queue/producer.ts';
import type { Runtime } from '../queue/runtime.ts';
import { bearerAuth } from './token-auth.ts';
import { sanitizeFileName, storeUpload, tooLarge } from './upload-store.ts';

export interface UploadDeps {
  rt: Runtime;
  /** Folder relative inbox paths resolve against. */
  cwd: string;
  /** Bearer token required on every route (undefined: open, loopback only). */
  token: string | undefined;
}

const COLLECTION = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/;
const MAX_METADATA = 16 * 1024;

interface Upload {
  stream: Readable;
  fileName: string;
  fields: Record<string, string>;
}

function badRequest(message: string): SluiceError {
  return new SluiceError('CONFIG_ERROR', message, { details: { status: 400 } });
}

/** The first file of a multipart body, with the fields sent before it. */
async function multipartFile(req: Request, maxBytes: number): Promise<Upload> {
  const { default: busboy } = await import('busboy');
  const headers = Object.fromEntries(req.headers.entries());
  const bb = busboy({
    headers,
    // The name as sent (paths and all) is kept in metadata; sanitizeFileName makes the stored one safe.
    preservePath: true,
    defParamCharset: 'utf8', // browsers send UTF-8 file names; busboy's default is latin1
    limits: { files: 1, fields: 20, fieldSize: MAX_METADATA, fileSize: maxBytes + 1, parts: 30 },
  });
  const fields: Record<string, string> = {};
  return new Promise<Upload>((resolve, reject) => {
    bb.on('field', (name, value) => {
      fields[name] = value;
    });
    bb.on('file', (_name, stream, info) => {
      // busboy stops at fileSize (maxBytes + 1), so the store's own count sees the overflow and
      // refuses it. Errors before the store attaches surface there too (as a premature close).
      stream.on('error', () => undefined);
      resolve({ stream, fileName: info.filename ?? 'upload', fields });
    });
    bb.on('error', (err) => reject(badRequest(`malformed multipart body: ${messageOf(err)}`)));
    bb.on('close', () => reject(badRequest('the multipart body has no file part')));
    Readable.fromWeb(req.body as import('node:stream/web').ReadableStream).pipe(bb);
  });
}

function parseMetadata(raw: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  if (raw.length > MAX_METADATA) throw badRequest(`metadata is over ${MAX_METADATA} characters`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw badRequest('metadata must be a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw badRequest('metadata must be a JSON object');
  // Postgres jsonb cannot hold NUL characters.
  if (raw.includes('\\u0000')) throw badRequest('metadata must not contain NUL characters');
  return value as Record<string, unknown>;
}

export function createUploadRoutes(deps: UploadDeps): Hono {
  const { rt } = deps;
  const app = new Hono();
  app.use('/v1/documents', bearerAuth(deps.token));
  app.use('/v1/documents/*', bearerAuth(deps.token));

  app.post('/v1/documents', async (c) => {
    const maxBytes = rt.config.maxFileBytes;
    const declared = Number(c.req.header('content-length') ?? Number.NaN);
    // A declared length over the limit (plus room for multipart framing) is refused before reading.
    // The server drains what is left of a refused body (bounded) so the answer reaches the client.
    const refuse = (error: string, status: 400 | 413 | 503) => c.json({ error }, status);
    if (declared > maxBytes + 64 * 1024) return refuse(tooLarge(maxBytes).message, 413);
    if (!c.req.raw.body) return c.json({ error: 'empty request body' }, 400);
    try {
      const multipart = /^multipart\/form-data/i.test(c.req.header('content-type') ?? '');
      const upload: Upload = multipart
        ? await multipartFile(c.req.raw, maxBytes)
        : {
            stream: Readable.fromWeb(c.req.raw.body as import('node:stream/web').ReadableStream),
            fileName: c.req.query('filename') ?? c.req.header('x-filename') ?? 'upload',
            fields: {
              ...(c.req.query('collection') ? { collection: c.req.query('collection')! } : {}),
              ...(c.req.query('metadata') ? { metadata: c.req.query('metadata')! } : {}),
            },
          };
      const collection = upload.fields.collection ?? rt.config.collection;
      if (!COLLECTION.test(collection)) throw badRequest(`"${collection}" is not a valid collection name`);
      const metadata = parseMetadata(upload.fields.metadata);
      // Postgres text and jsonb cannot hold NUL: the only character the original name loses.
      const originalName = upload.fileName.replaceAll('\u0000', '');
      const stored = await storeUpload(rt.config, deps.cwd, upload.stream, {
        collection,
        fileName: sanitizeFileName(originalName),
        maxBytes,
      });
      const summary = await ingestHashed(rt, [{ uri: stored.uri, bytes: stored.bytes, hash: stored.hash }], {
        collection,
      });
      const id = summary.ids[0]!;
      await mergeDocumentMetadata(rt.pool, id, {
        ...metadata,
        upload: { originalName, bytes: stored.bytes, at: new Date().toISOString() },
      });
      return c.json({ id, collection, uri: stored.uri, status: 'queued' }, 202);
    } catch (err) {
      const e = err as SluiceError;
      if (e.code === 'TOO_LARGE') return refuse(e.message, 413);
      if (e.details?.status === 400) return refuse(e.message, 400);
      rt.log.warn(`upload failed: ${messageOf(err)}`);
      return refuse(`upload failed: ${messageOf(err)}`, e.retryable === false ? 400 : 503);
    }
  });

  app.get('/v1/documents/:id', async (c) => {
    const id = Number(c.req.param('id'));
    if (!Number.isSafeInteger(id) || id <= 0)
      return c.json({ error: 'document ids are positive integers' }, 400);
    const doc = await getDocument(rt.pool, id);
    if (!doc) return c.json({ error: `no document ${id}` }, 404);
    return c.json({
      id: doc.id,
      collection: doc.collection,
      uri: doc.uri,
      status: doc.status,
      stage: doc.stage,
      errorCode: doc.error_code,
      errorMessage: doc.error_message,
      title: doc.title,
      mime: doc.mime,
      bytes: doc.bytes,
      metadata: doc.metadata,
      updatedAt: doc.updated_at,
    });
  });
  return app;
}

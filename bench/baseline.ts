// The baseline a TypeScript developer would write with LangChain.js, run as a
// child process of bench/run.ts on the same corpus and Postgres: load each file
// with a LangChain loader, split with RecursiveCharacterTextSplitter (same size
// and overlap as sluice), and PGVectorStore.addDocuments one document after
// another, as the PGVectorStore docs show. Embeddings: an in-process hash
// Embeddings class (condition a) or OpenAIEmbeddings at its defaults pointed at
// the test server (condition b; only `dimensions` is set, to match sluice).
//
// Loaders: TextLoader (.md, .txt), PDFLoader (pdf-parse), DocxLoader (mammoth).
// @langchain/community has no file-based HTML loader (CheerioWebBaseLoader
// fetches URLs), so HTML is read from disk and converted with cheerio exactly as
// CheerioWebBaseLoader does: `$("body").text()`, title from <title>.
//
//   node bench/baseline.ts '<json BaselineArgs>'   → one JSON BaselineResult on stdout
import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { TextLoader } from '@langchain/classic/document_loaders/fs/text';
import { DocxLoader } from '@langchain/community/document_loaders/fs/docx';
import { PDFLoader } from '@langchain/community/document_loaders/fs/pdf';
import { PGVectorStore } from '@langchain/community/vectorstores/pgvector';
import { Document } from '@langchain/core/documents';
import { Embeddings } from '@langchain/core/embeddings';
import { OpenAIEmbeddings } from '@langchain/openai';
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { hashVector } from '../src/embedders/hash.ts';

export interface BaselineArgs {
  /** Corpus directory and the files (relative paths) to load, in order. */
  dir: string;
  files: string[];
  databaseUrl: string;
  table: string;
  embedder: 'hash' | 'openai';
  dimensions: number;
  chunkSize: number;
  chunkOverlap: number;
  /** Condition (b): the test server's OpenAI base URL and model. */
  openaiBaseUrl?: string;
  model?: string;
}

export interface BaselineResult {
  documents: number;
  failed: number;
  chunks: number;
  bytes: number;
  seconds: number;
  /** Time inside each step, summed over documents. */
  loadSeconds: number;
  splitSeconds: number;
  addSeconds: number;
  /** This process's peak resident set (VmHWM), MB. */
  peakRssMb: number;
  errors: string[];
}

/** Condition (a): sluice's hash embedder as a LangChain Embeddings class, in process. */
class HashEmbeddings extends Embeddings {
  readonly dims: number;
  constructor(dims: number) {
    super({});
    this.dims = dims;
  }
  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((t) => Array.from(hashVector(t, this.dims)));
  }
  async embedQuery(text: string): Promise<number[]> {
    return Array.from(hashVector(text, this.dims));
  }
}

async function loadHtml(path: string): Promise<Document[]> {
  const { load } = await import('cheerio');
  const $ = load(readFileSync(path, 'utf8'));
  return [
    new Document({ pageContent: $('body').text(), metadata: { source: path, title: $('title').text() } }),
  ];
}

async function loadFile(path: string): Promise<Document[]> {
  switch (extname(path)) {
    case '.pdf':
      return new PDFLoader(path).load();
    case '.docx':
      return new DocxLoader(path).load();
    case '.html':
      return loadHtml(path);
    default:
      return new TextLoader(path).load();
  }
}

export async function runBaseline(args: BaselineArgs): Promise<BaselineResult> {
  const embeddings =
    args.embedder === 'hash'
      ? new HashEmbeddings(args.dimensions)
      : new OpenAIEmbeddings({
          model: args.model ?? 'text-embedding-3-small',
          dimensions: args.dimensions,
          apiKey: 'test',
          configuration: { baseURL: args.openaiBaseUrl },
        });
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: args.chunkSize,
    chunkOverlap: args.chunkOverlap,
  });
  const store = await PGVectorStore.initialize(embeddings, {
    postgresConnectionOptions: { connectionString: args.databaseUrl },
    tableName: args.table,
    dimensions: args.dimensions,
  });
  const r: BaselineResult = {
    documents: 0,
    failed: 0,
    chunks: 0,
    bytes: 0,
    seconds: 0,
    loadSeconds: 0,
    splitSeconds: 0,
    addSeconds: 0,
    peakRssMb: 0,
    errors: [],
  };
  const t0 = performance.now();
  try {
    for (const file of args.files) {
      const path = join(args.dir, file);
      try {
        const t1 = performance.now();
        const docs = await loadFile(path);
        const t2 = performance.now();
        const chunks = await splitter.splitDocuments(docs);
        const t3 = performance.now();
        await store.addDocuments(chunks);
        const t4 = performance.now();
        r.loadSeconds += (t2 - t1) / 1000;
        r.splitSeconds += (t3 - t2) / 1000;
        r.addSeconds += (t4 - t3) / 1000;
        r.documents++;
        r.chunks += chunks.length;
        r.bytes += readFileSync(path).byteLength;
      } catch (err) {
        r.failed++;
        if (r.errors.length < 5) r.errors.push(`${file}: ${(err as Error).message.slice(0, 200)}`);
      }
    }
    r.seconds = (performance.now() - t0) / 1000;
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    r.peakRssMb = Number(hwm?.[1] ?? 0) / 1024;
  } finally {
    await store.end();
  }
  return r;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = JSON.parse(process.argv[2] ?? '{}') as BaselineArgs;
  const result = await runBaseline(args);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

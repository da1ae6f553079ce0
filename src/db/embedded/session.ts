// The embedded database itself: one PGlite instance (PostgreSQL in wasm, with
// pgvector) per data directory and process, and the pg connections onto it.
// Each pg.Client gets its own connection object built on PGlite's node-postgres
// adapter, so node-postgres parses every result exactly as from a server; what
// this adds is the sharing of PGlite's single session (gate.ts), LISTEN routing
// (listen.ts), and per-client names for prepared statements.
// Heavy: imported only once an embedded pool connects.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import { PglitePgConnection } from '@electric-sql/pglite/node-postgres';
import { vector } from '@electric-sql/pglite-pgvector';
import { createLogger } from '../../log.ts';
import { SessionGate } from './gate.ts';
import { type Listener, ListenRoutes } from './listen.ts';

/** The protocol's Sync message: ends a failed extended query's skipping of messages. */
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

/** A wait for the session this long is reported: it means a transaction is held open that long. */
const LONG_WAIT_MS = 60_000;

type Message = { name: string; status?: string; channel?: string; payload?: string; processId?: number };
type ExecOptions = Parameters<PGlite['execProtocolStream']>[1];

export class EmbeddedDatabase {
  readonly gate = new SessionGate();
  readonly routes = new ListenRoutes();
  readonly pglite: PGlite;
  readonly dataDir: string;
  #ids = 0;

  constructor(pglite: PGlite, dataDir: string) {
    this.pglite = pglite;
    this.dataDir = dataDir;
  }

  /** A new connection for one pg.Client. */
  connection(): EmbeddedConnection {
    return new EmbeddedConnection(this, ++this.#ids);
  }

  /**
   * Runs one protocol message for `owner`, once it holds the session; lets the
   * session go when Postgres reports it idle (outside any transaction).
   */
  async exec(owner: EmbeddedConnection, bytes: Uint8Array, opts: ExecOptions): Promise<Message[]> {
    await this.#acquire(owner);
    const messages = (await this.pglite.execProtocolStream(bytes, opts)) as Message[];
    const out: Message[] = [];
    for (const m of messages) {
      if (m.name === 'notification') this.routes.deliver(m as Parameters<Listener['notify']>[0]);
      else out.push(m);
      if (m.name === 'readyForQuery' && m.status === 'I') this.gate.release(owner);
    }
    return out;
  }

  /**
   * Takes the session for `owner`. A wait of a minute is logged once: the
   * holder's transaction is that long, or is waiting on another client's query
   * (which can never run: a caller bug that would otherwise hang silently).
   */
  async #acquire(owner: EmbeddedConnection): Promise<void> {
    if (this.gate.holder === owner) return;
    // A query on a server waits for a socket, a turn of the event loop; PGlite
    // answers on microtasks alone, so a loop of queries (a search loop) would
    // starve every timer and I/O callback of the process. One turn per query or
    // transaction, taken before it gets the session.
    await nextTurn();
    const holder = this.gate.holder;
    if (holder === undefined || holder === owner) return this.gate.acquire(owner);
    const timer = setTimeout(() => {
      createLogger('warn').warn(
        `embedded database ${this.dataDir}: a query has waited ${LONG_WAIT_MS / 1000} s for the one session, held by a transaction still open`,
      );
    }, LONG_WAIT_MS);
    timer.unref();
    try {
      await this.gate.acquire(owner);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Runs fn on PGlite's own API (COPY from a blob) holding the session for
   * `owner`; lets it go afterwards unless a transaction is still open.
   */
  async exclusive<T>(owner: EmbeddedConnection, fn: (pglite: PGlite) => Promise<T>): Promise<T> {
    await this.#acquire(owner);
    await owner.idle();
    try {
      return await fn(this.pglite);
    } finally {
      if (!this.pglite.isInTransaction()) this.gate.release(owner);
    }
  }

  /**
   * Ends a client's use of the session as a server ends a connection: a query it
   * left mid-protocol is synced (a failed one otherwise makes Postgres skip the
   * next client's messages until a Sync, silently), an open transaction rolled back.
   */
  async detach(owner: EmbeddedConnection): Promise<void> {
    this.routes.drop(owner);
    this.gate.forget(owner);
    if (this.gate.holder !== owner) return;
    try {
      await this.pglite.execProtocolStream(SYNC, { throwOnError: false });
      if (this.pglite.isInTransaction()) await this.pglite.exec('ROLLBACK');
    } finally {
      this.gate.release(owner);
    }
  }

  close(): Promise<void> {
    return this.pglite.close();
  }
}

/** What PGlite's adapter calls: the shared instance, reached through the gate. */
class Port {
  readonly waitReady = Promise.resolve();
  tail: Promise<unknown> = Promise.resolve();
  ended = false;
  owner: EmbeddedConnection | undefined;
  readonly db: EmbeddedDatabase;

  constructor(db: EmbeddedDatabase) {
    this.db = db;
  }

  execProtocolStream(bytes: Uint8Array, opts: ExecOptions): Promise<Message[]> {
    if (this.ended || !this.owner) return Promise.resolve([]);
    const run = this.db.exec(this.owner, bytes, opts);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

type Named = { name?: string; text?: string };

export class EmbeddedConnection extends PglitePgConnection implements Listener {
  readonly #db: EmbeddedDatabase;
  readonly #port: Port;
  readonly #prefix: string;

  constructor(db: EmbeddedDatabase, id: number) {
    const port = new Port(db);
    super({ pglite: port as unknown as PGlite });
    port.owner = this;
    this.#db = db;
    this.#port = port;
    this.#prefix = `c${id}_`;
  }

  get database(): EmbeddedDatabase {
    return this.#db;
  }

  /** Resolves once every message sent so far has run. */
  idle(): Promise<unknown> {
    return this.#port.tail;
  }

  /**
   * Runs `COPY ... FROM '/dev/blob'` on PGlite's own API, fed these bytes
   * (pg-copy-streams' COPY FROM STDIN cannot run through PGlite's adapter).
   */
  copyFromBlob(sql: string, parts: readonly Uint8Array[]): Promise<void> {
    // One part, not one per field: a Blob of thousands of small parts costs more to read than the COPY.
    const blob = new Blob([Buffer.concat(parts)]);
    return this.#db.exclusive(this, async (pglite) => {
      await pglite.query(sql, [], { blob });
    });
  }

  notify(message: { channel: string; payload: string; processId: number }): void {
    queueMicrotask(() => this.emit('notification', message));
  }

  // Prepared statements live in the session, which all clients share: each
  // client's names get its own prefix so two clients never clash on one.
  #rename(name: string | undefined): string | undefined {
    return name ? this.#prefix + name : name;
  }

  override query(text: string): void {
    this.#db.routes.track(this, text);
    super.query(text);
  }

  override parse(query: Named): void {
    if (query.text) this.#db.routes.track(this, query.text);
    super.parse({ ...query, name: this.#rename(query.name) });
  }

  override bind(config: { statement?: string }): void {
    super.bind({ ...config, statement: this.#rename(config.statement) });
  }

  override describe(msg: { type: string; name?: string }): void {
    super.describe(msg.type === 'S' ? { ...msg, name: this.#rename(msg.name) } : msg);
  }

  override close(msg: { type: string; name?: string }): void {
    super.close(msg.type === 'S' ? { ...msg, name: this.#rename(msg.name) } : msg);
  }

  override end(): void {
    if (this.#port.ended) return;
    const pending = this.#port.tail;
    this.#port.ended = true;
    // The adapter's own end() drops every listener before it emits 'end', so a
    // pg client awaiting end() (a pool ending with clients in use) would wait
    // forever: 'end' is emitted here first.
    void pending
      .then(() => this.#db.detach(this))
      .catch(() => undefined)
      .finally(() => {
        this.emit('end');
        super.end();
      });
  }
}

/**
 * Opens (creating if new) the data directory with pgvector available. The one
 * session's search_path ends in bullmq: BullMQ's PostgreSQL backend names its
 * tables and functions unqualified (a server pool sets this per connection).
 */
export async function openDatabase(dataDir: string): Promise<EmbeddedDatabase> {
  const pglite = await PGlite.create({ dataDir, extensions: { vector } });
  await pglite.exec('SET search_path TO public, bullmq');
  return new EmbeddedDatabase(pglite, dataDir);
}

// The one session of an embedded database, shared by every client of the
// process: PGlite is single-session, so a client owns it from its first message
// until Postgres reports the session idle again (ReadyForQuery 'I'). A client in
// a transaction keeps it until COMMIT or ROLLBACK, so transactions never
// interleave; its own queries go straight through, the others queue in order.

interface Waiter {
  owner: object;
  resolve: () => void;
}

export class SessionGate {
  #holder: object | undefined;
  readonly #waiting: Waiter[] = [];

  /** The client that owns the session now, if any. */
  get holder(): object | undefined {
    return this.#holder;
  }

  /** Resolves once `owner` holds the session (at once when it already does). */
  acquire(owner: object): Promise<void> {
    if (this.#holder === undefined || this.#holder === owner) {
      this.#holder = owner;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push({ owner, resolve }));
  }

  /** Hands the session to the next waiting client; a no-op unless `owner` holds it. */
  release(owner: object): void {
    if (this.#holder !== owner) return;
    const next = this.#waiting.shift();
    this.#holder = next?.owner;
    next?.resolve();
  }

  /** Forgets a client that ends while still waiting. */
  forget(owner: object): void {
    const i = this.#waiting.findIndex((w) => w.owner === owner);
    if (i >= 0) this.#waiting.splice(i, 1);
  }
}

// LISTEN/NOTIFY on a shared session: Postgres sends every notification to the
// one PGlite session, after whichever client's command committed it. These
// routes deliver it instead to the clients that issued LISTEN on its channel,
// as a server would deliver it to their own sessions.

/** A channel's name as Postgres stores it: unquoted names fold to lower case. */
function channelName(token: string): string {
  return token.startsWith('"') ? token.slice(1, -1).replaceAll('""', '"') : token.toLowerCase();
}

const STATEMENT = /(?:^|;)\s*(UNLISTEN|LISTEN)\s+("(?:[^"]|"")+"|[A-Za-z_][\w$]*|\*)/gi;

/** The LISTEN and UNLISTEN statements in a SQL text (comments ignored). */
export function listenStatements(sql: string): { listen: boolean; channel: string }[] {
  if (!/listen/i.test(sql)) return [];
  const text = sql.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ');
  return [...text.matchAll(STATEMENT)].map((m) => ({
    listen: m[1]!.toUpperCase() === 'LISTEN',
    channel: m[2] === '*' ? '*' : channelName(m[2]!),
  }));
}

export interface Listener {
  notify(message: { channel: string; payload: string; processId: number }): void;
}

export class ListenRoutes {
  readonly #byChannel = new Map<string, Set<Listener>>();

  /** Records what a client's SQL subscribes to or drops, before it runs. */
  track(client: Listener, sql: string): void {
    for (const s of listenStatements(sql)) {
      if (s.listen) {
        const set = this.#byChannel.get(s.channel) ?? new Set();
        set.add(client);
        this.#byChannel.set(s.channel, set);
      } else if (s.channel === '*') this.drop(client);
      else this.#byChannel.get(s.channel)?.delete(client);
    }
  }

  /** A client that ended listens to nothing any more. */
  drop(client: Listener): void {
    for (const set of this.#byChannel.values()) set.delete(client);
  }

  /** Delivers one notification to every client listening on its channel. */
  deliver(message: { channel: string; payload: string; processId: number }): void {
    for (const client of this.#byChannel.get(message.channel) ?? []) client.notify(message);
  }
}

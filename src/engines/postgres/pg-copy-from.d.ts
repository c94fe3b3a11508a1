// pg-copy-streams ships no types; this is the part the PostgreSQL engine uses to load versions.
declare module 'pg-copy-streams' {
  import type { Writable } from 'node:stream';
  import type { Connection } from 'pg';

  /** A `COPY … FROM STDIN` query: pass it to `client.query()`, then write the rows' bytes to it. */
  export interface CopyFromStream extends Writable {
    rowCount: number;
    submit(connection: Connection): void;
  }

  export function from(sql: string, options?: { highWaterMark?: number }): CopyFromStream;
}

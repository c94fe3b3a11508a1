// pg-copy-streams ships no types; this is the part the PostgreSQL engine uses to load versions and
// to export query results.
declare module 'pg-copy-streams' {
  import type { Readable, Writable } from 'node:stream';
  import type { Connection } from 'pg';

  /** A `COPY … FROM STDIN` query: pass it to `client.query()`, then write the rows' bytes to it. */
  export interface CopyFromStream extends Writable {
    rowCount: number;
    submit(connection: Connection): void;
  }

  /** A `COPY … TO STDOUT` query: pass it to `client.query()`, then read the rows' bytes from it. */
  export interface CopyToStream extends Readable {
    rowCount: number;
    submit(connection: Connection): void;
  }

  export function from(sql: string, options?: { highWaterMark?: number }): CopyFromStream;
  export function to(sql: string, options?: { highWaterMark?: number }): CopyToStream;
}

// pg-copy-streams ships no types; this is the part the PostgreSQL reader uses.
declare module 'pg-copy-streams' {
  import type { Readable } from 'node:stream';
  import type { Connection } from 'pg';

  /** A `COPY … TO STDOUT` query: pass it to `client.query()`, then read the rows' bytes from it. */
  export interface CopyToStream extends Readable {
    /** Rows copied, once the stream has ended. */
    rowCount: number;
    submit(connection: Connection): void;
  }

  export function to(sql: string, options?: { highWaterMark?: number }): CopyToStream;
}

import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { randomInt } from 'node:crypto';
import { closeSignal } from 'pg-gateway';
import { fromNodeSocket } from 'pg-gateway/node';
import { UsageError } from '../../diagnostics/errors.ts';
import { PgConnection, type PgServedHandle } from './pg-connection.ts';
import {
  CANCEL_REQUEST_CODE,
  GSSENC_REQUEST_CODE,
  ReplyWriter,
  SSL_REQUEST_CODE,
  initialPacketCode,
  readCancelRequest,
  readStartupParameters,
} from './wire-messages.ts';

/** pg-gateway ends the connection (after writing what came before) when a reply yields its close signal. */
const CLOSE = closeSignal as unknown as Uint8Array;

/** Parse, Bind, Describe, Execute, Close: their replies wait for the next Sync or Flush. */
const BUFFERED_UNTIL_SYNC = new Set(['P', 'B', 'D', 'E', 'C'].map((type) => type.charCodeAt(0)));

/** A reply that tells pg-gateway "handled" without writing anything (a return value, no yield). */
function* NOTHING_TO_WRITE(): Generator<Uint8Array, boolean> {
  return true;
}

export type { PgPlatform, PgServedHandle, PgQueryResult } from './pg-connection.ts';

export interface PgServerOptions {
  /** Interface to listen on; beyond loopback, `tls` is required (passwords are tokens, sent in clear). */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** PEM certificate and key (`--pg-tls-cert/--pg-tls-key`); with them, clients beyond loopback must use SSL. */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** Server log lines (failed logins, unexpected errors). */
  log: (message: string) => void;
}

export interface PgServer {
  /** The port it listens on (the one picked when asked for 0). */
  port: number;
  /** Stop listening and end every connection (queries running are cancelled). */
  close(): Promise<void>;
}

/** Whether an address is the local machine's own. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const bare = address.replace(/^::ffff:/, '');
  return bare === 'localhost' || bare === '::1' || /^127\./.test(bare);
}

/**
 * The PostgreSQL wire protocol over the platform's governed read path: user = principal, password =
 * a token (`tessera token create`), any database name. pg-gateway frames messages and upgrades to
 * TLS; `PgConnection` does the rest.
 */
export async function startPgServer(handle: PgServedHandle, options: PgServerOptions): Promise<PgServer> {
  if (!isLoopback(options.host) && !options.tls) {
    throw new UsageError(
      `the PostgreSQL port on ${options.host} needs TLS: passwords are tokens and would cross the network in clear; ` +
        'pass --pg-tls-cert and --pg-tls-key, or listen on 127.0.0.1',
    );
  }
  const tls = options.tls
    ? { cert: toArrayBuffer(options.tls.cert), key: toArrayBuffer(options.tls.key) }
    : undefined;
  const connections = new Map<number, PgConnection>();
  const sockets = new Set<Socket>();

  const server = createServer((socket) => {
    sockets.add(socket);
    let connection: PgConnection | undefined;
    const pending: Uint8Array[] = [];
    socket.on('error', () => {}); // A client resetting the connection is not the server's problem.
    socket.on('close', () => {
      sockets.delete(socket);
      if (connection) {
        connection.close();
        connections.delete(connection.processId);
      }
    });
    const remoteIsLoopback = isLoopback(socket.remoteAddress);

    void fromNodeSocket(socket, {
      ...(tls ? { tls } : {}),
      onMessage: async (message, state) => {
        if (connection) {
          const { reply, close } = await connection.receive(message);
          if (close) return [...pending.splice(0), reply, CLOSE];
          // Like PostgreSQL, hold extended-protocol replies until Sync or Flush: one write per round
          // trip instead of one per message (a parameterized query is five messages).
          if (BUFFERED_UNTIL_SYNC.has(message[0]!)) {
            if (reply.byteLength > 0) pending.push(reply);
            return NOTHING_TO_WRITE();
          }
          return pending.length === 0 ? reply : Buffer.concat([...pending.splice(0), reply]);
        }
        const code = initialPacketCode(message);
        if (code === SSL_REQUEST_CODE) return undefined; // pg-gateway answers, and upgrades when it has TLS.
        if (code === GSSENC_REQUEST_CODE) return Buffer.from('N');
        if (code === CANCEL_REQUEST_CODE) {
          const { processId, secret } = readCancelRequest(message);
          const target = connections.get(processId);
          if (target && target.secret === secret) target.cancel();
          return [CLOSE];
        }
        // The startup packet.
        const reply = new ReplyWriter();
        if (tls && !state.tlsInfo && !remoteIsLoopback) {
          reply.error({
            severity: 'FATAL',
            code: '28000',
            message:
              'this server requires SSL beyond loopback (the password is a token); connect with sslmode=require',
          });
          return [reply.bytes(), CLOSE];
        }
        const parameters = readStartupParameters(message);
        if (!parameters.user) {
          reply.error({
            severity: 'FATAL',
            code: '28000',
            message:
              'no user name in the startup packet: connect as your principal (e.g. user=bob@example.org)',
          });
          return [reply.bytes(), CLOSE];
        }
        connection = new PgConnection(handle, parameters, newIdentity(connections), options.log);
        connections.set(connection.processId, connection);
        return reply.authenticationCleartextPassword().bytes();
      },
    }).catch((error: unknown) => {
      options.log(`pgwire: connection failed: ${error instanceof Error ? error.message : String(error)}`);
      socket.destroy();
    });
  });

  server.listen(options.port, options.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => {
      throw error;
    }),
  ]);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of connections.values()) connection.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** A backend "process id" and cancel secret no other live connection has. */
function newIdentity(connections: Map<number, PgConnection>): { processId: number; secret: number } {
  let processId: number;
  do processId = randomInt(1, 2 ** 31 - 1);
  while (connections.has(processId));
  return { processId, secret: randomInt(0, 2 ** 31 - 1) };
}

function toArrayBuffer(value: Buffer | string): ArrayBuffer {
  const buffer = typeof value === 'string' ? Buffer.from(value) : value;
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
}

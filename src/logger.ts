import { types } from "node:util";
import { DrizzleQueryError } from "drizzle-orm";
import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };

// Anything that could carry a credential is removed before a line is written.
const REDACT = [
  "password",
  "*.password",
  "*.newPassword",
  "*.currentPassword",
  "*.token",
  "*.accessToken",
  "*.refreshToken",
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
];

const carriesQueryParams = (error: unknown): boolean =>
  error instanceof DrizzleQueryError || (error instanceof Error && carriesQueryParams(error.cause));

/**
 * Drizzle's error for a failed query carries its parameters, in its message too: email
 * addresses, password hashes, token hashes. Such a chain is written with the SQL and the
 * driver's causes only (pino's own serializer would copy the parameters into the message).
 */
function serializeError(error: unknown): unknown {
  // Node's own errors (its HTTP parser's) are of another realm under jest's module sandbox.
  if (!(error instanceof Error || types.isNativeError(error))) return error;
  if (!carriesQueryParams(error)) {
    // Node's HTTP parser gives a request it could not parse (a 400, a 431) its bytes, as
    // `rawPacket`: the request line and headers, tokens and Authorization included. Its code
    // says what was wrong. ioredis gives a reply error the command it answers, arguments
    // included: an AUTH's password (a WRONGPASS), a script's keys (addresses, email hashes).
    // Its name says which command it was.
    const { rawPacket: _bytes, command, ...serialized } = pino.stdSerializers.err(error) as Record<string, unknown>;
    return command === undefined ? serialized : { ...serialized, command: { name: (command as { name?: unknown } | null)?.name } };
  }
  const message = error instanceof DrizzleQueryError ? `Failed query: ${error.query}` : error.message;
  return { type: error.constructor.name, message, cause: serializeError(error.cause) };
}

/** A request is logged by its method and path: query strings can carry tokens (reset links). */
function serializeRequest(request: { method?: string; url?: string }) {
  return { method: request.method, path: request.url?.split("?")[0] };
}

/**
 * Standard output, written asynchronously: a line is handed to the kernel while the next
 * requests run, and lines logged while a write is in flight go out together in the next one
 * (a synchronous write per request line cost the hot path a system call each). pino flushes
 * what is left when the process exits. Should stdout stall, at most MAX_BUFFERED bytes wait;
 * beyond that lines are dropped rather than growing the heap.
 */
const MAX_BUFFERED = 16 * 1024 * 1024;

/**
 * sonic-boom (pino.destination) in its buffer mode, each line handed to it as bytes. In its
 * default mode it appends a line to the string of those waiting and measures that string's
 * bytes again for each line (sonic-boom 4.2 and 5.0, `write`), which copies the whole string
 * every time: under load, kilobytes per request line. In buffer mode it keeps a list of
 * buffers and their lengths. The writes, the limit and the flush at exit are the same.
 */
function standardOutput(): DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false, maxLength: MAX_BUFFERED, contentMode: "buffer" });
  // Looked up at each line: on EPIPE, pino replaces the stream's write with a no-op.
  return { write: (line: string) => stream.write(Buffer.from(line) as unknown as string) };
}

export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACT, censor: "[redacted]" },
      serializers: { err: serializeError, req: serializeRequest },
    },
    options.destination ?? standardOutput(),
  );
}

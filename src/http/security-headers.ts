import type { IncomingMessage, ServerResponse } from "node:http";
import helmet, { type HelmetOptions } from "helmet";
import type { HttpServer } from "./app";

/**
 * helmet's headers, worked out once. Without a CSP nonce they never depend on the request,
 * and running helmet's middleware chain for every response cost ~3 % of the CPU of a `me`
 * (bench/, issue 7): the same headers are now copied onto each reply in one step.
 */
export function securityHeaders(options: HelmetOptions): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    failure = error;
  });
  if (failure) throw failure;
  return headers;
}

/** Sets them on every reply a hook sees (http/app.ts sets them on the others). */
export function registerSecurityHeaders(http: HttpServer, headers: Readonly<Record<string, string>>): void {
  http.addHook("onRequest", (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
}

import fastifyCookie from "@fastify/cookie";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config";
import { noRefreshCookie, type RefreshCookie } from "../graphql/refresh-cookie";
import type { HttpServer } from "./app";

const REFRESH_COOKIE_NAME = "refresh_token";
const GRAPHQL_PATH = "/graphql";

/** Parses cookies only when REFRESH_TOKEN_COOKIE is on: nothing else here reads them. */
export function registerRefreshCookie(http: HttpServer, config: Config): void {
  if (config.http.refreshTokenCookie) void http.register(fastifyCookie);
}

/**
 * The refresh-token cookie of one GraphQL request. HttpOnly keeps the cookie from page scripts
 * (though an injected one can still call refreshToken and read its answer: the contract keeps
 * the token in the payload); SameSite=Strict keeps other sites from sending it along; the path
 * keeps it off every request but GraphQL's. Secure outside development, where the service may be
 * on plain http.
 */
export function refreshCookieFor(config: Config, request: FastifyRequest, reply: FastifyReply): RefreshCookie {
  if (!config.http.refreshTokenCookie) return noRefreshCookie;
  const attributes = {
    path: GRAPHQL_PATH,
    httpOnly: true,
    secure: config.env !== "development",
    sameSite: "strict",
  } as const;
  return {
    read: () => request.cookies[REFRESH_COOKIE_NAME] || undefined,
    write: (refreshToken) => void reply.setCookie(REFRESH_COOKIE_NAME, refreshToken, { ...attributes, maxAge: config.sessions.refreshTokenTtl }),
    clear: () => void reply.clearCookie(REFRESH_COOKIE_NAME, attributes),
  };
}

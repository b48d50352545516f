import { invalidRefreshToken } from "../errors";

/**
 * The refresh-token cookie of one request (REFRESH_TOKEN_COOKIE). The HTTP layer builds it;
 * resolvers only read, write and clear it. With the setting off it holds nothing and writes nothing.
 */
export interface RefreshCookie {
  read(): string | undefined;
  write(refreshToken: string): void;
  clear(): void;
}

export const noRefreshCookie: RefreshCookie = Object.freeze({
  read: () => undefined,
  write: () => {},
  clear: () => {},
});

/** The token passed as an argument, else the cookie's: a browser that holds the cookie omits the argument. */
export function presentedRefreshToken(cookie: RefreshCookie, argument: string | null | undefined): string | undefined {
  return argument ?? cookie.read();
}

export function requireRefreshToken(cookie: RefreshCookie, argument: string | null | undefined): string {
  const token = presentedRefreshToken(cookie, argument);
  if (!token) throw invalidRefreshToken();
  return token;
}

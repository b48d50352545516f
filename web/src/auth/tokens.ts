export type AuthState = "unknown" | "signed-in" | "signed-out";

export interface IssuedTokens {
  accessToken: string;
  /** Seconds. */
  expiresIn: number;
  /** Absent when the service keeps it in the HttpOnly cookie. */
  refreshToken?: string | null;
}

export interface Tokens {
  state(): AuthState;
  subscribe(listener: () => void): () => void;
  /** Resumes a session kept by the cookie or the storage, if there is one. */
  start(): Promise<void>;
  signIn(issued: IssuedTokens): void;
  /** Forgets the session here and in the other tabs (after logout, logoutAll or a reset). */
  signOut(): void;
  /** Whether the session this tab had ended without it signing out (refused by the service, or signed out in another tab). */
  sessionEnded(): boolean;
  /** A valid access token, refreshed first when it is about to expire; null when signed out. */
  accessToken(): Promise<string | null>;
  /** Rotates now (after changePassword, which retires every access token). */
  refresh(): Promise<string | null>;
  /** For logout when there is no cookie. */
  storedRefreshToken(): string | null;
}

/** A refresh that failed for a passing reason (network, rate limit): the session may still be alive. */
export class RefreshFailed extends Error {
  /** Seconds the service asked to wait (RATE_LIMITED's retryAfter), when it did. */
  readonly retryAfter: number | undefined;

  constructor(message: string, retryAfter?: number) {
    super(message);
    this.retryAfter = retryAfter;
  }
}

const LOCK_NAME = "graphql-auth:refresh";
const CHANNEL_NAME = "graphql-auth:session";
const STORAGE_KEY = "graphql-auth:refresh-token";
/**
 * A refresh holds the lock every tab waits on: one that hangs would stall them all. Should the
 * service have rotated the token and the answer been lost, the retry presents the previous token,
 * which the service takes as a retry only within REFRESH_TOKEN_REUSE_INTERVAL (10 s by default)
 * of the rotation: so the timeout and the first retry's delay together stay under it.
 */
const REFRESH_TIMEOUT_MS = 8_000;
const FIRST_RETRY_MS = 1_000;
/** Later retries, while the service stays out of reach. */
const RETRY_MS = 5_000;
/** setTimeout fires at once past this (2^31 - 1 ms, ~24.8 days): an ACCESS_TOKEN_TTL above it would refresh in a loop. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const REFRESH_FROM_COOKIE = `mutation RefreshFromCookie { refreshToken { accessToken expiresIn } }`;
const REFRESH = `mutation Refresh($refreshToken: String!) { refreshToken(refreshToken: $refreshToken) { accessToken refreshToken expiresIn } }`;

interface RefreshResponse {
  data?: { refreshToken?: IssuedTokens | null } | null;
  errors?: { extensions?: { code?: string; retryAfter?: number } }[];
}

type Message = { type: "signed-in" } | { type: "signed-out" };

/** Refresh ahead of expiry by a fifth of the lifetime, at most a minute. */
const marginMs = (ttlSeconds: number) => Math.min(60, ttlSeconds / 5) * 1000;

/**
 * Web Locks make a refresh single-flight across every tab of this origin: with the cookie (or the
 * stored token) shared, two tabs rotating the same refresh token at once would look like theft to
 * the service and end the session. Without Web Locks (an insecure context) each tab is still
 * single-flight, and the service's REFRESH_TOKEN_REUSE_INTERVAL absorbs two tabs that race.
 */
function withLock<T>(task: () => Promise<T>): Promise<T> {
  return typeof navigator.locks?.request === "function" ? navigator.locks.request(LOCK_NAME, task) : task();
}

/**
 * The access token lives in this closure only, never in storage. The refresh token is in an
 * HttpOnly cookie (useCookie), or else in localStorage so that every tab shares one session.
 */
export function createTokens(options: { graphqlUrl: string; useCookie: boolean }): Tokens {
  const { graphqlUrl, useCookie } = options;
  let state: AuthState = "unknown";
  let access: { token: string; refreshAt: number; expiresAt: number } | null = null;
  let inFlight: Promise<string | null> | null = null;
  let ended = false;
  let timer: number | undefined;
  const listeners = new Set<() => void>();
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL_NAME) : null;

  // A browser that blocks site data throws on any use of localStorage. The token then lives in
  // this tab only (in memory), rather than the pages failing to start, or a sign-in failing after
  // the service opened its session.
  let unstored: string | null = null;
  function keep(token: string | null) {
    unstored = token;
    try {
      if (token === null) localStorage.removeItem(STORAGE_KEY);
      else localStorage.setItem(STORAGE_KEY, token);
    } catch {
      // Kept in memory above.
    }
  }
  // A token an earlier setting (REFRESH_TOKEN_COOKIE off) left in storage: unused with the cookie,
  // but still valid and readable by any script on the page until it expires.
  if (useCookie) keep(null);
  const stored = {
    get(): string | null {
      if (useCookie) return null;
      try {
        return localStorage.getItem(STORAGE_KEY);
      } catch {
        return unstored;
      }
    },
    set: (token: string | null | undefined) => {
      if (!useCookie && token) keep(token);
    },
    clear: () => {
      if (!useCookie) keep(null);
    },
  };

  function setState(next: AuthState) {
    if (state === next) return;
    state = next;
    for (const listener of listeners) listener();
  }

  function schedule(delayMs: number, failures = 0) {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => refresh().catch(retryAfter(failures)), Math.min(Math.max(delayMs, 1000), MAX_TIMER_MS));
  }

  /** Tries a failed refresh again: soon the first time, then every RETRY_MS, or as late as the service asked. */
  function retryAfter(failures: number) {
    return (error: unknown) => {
      const asked = error instanceof RefreshFailed && error.retryAfter ? error.retryAfter * 1000 : 0;
      schedule(Math.max(failures === 0 ? FIRST_RETRY_MS : RETRY_MS, asked), failures + 1);
    };
  }

  function accept(issued: IssuedTokens) {
    const now = Date.now();
    const expiresAt = now + issued.expiresIn * 1000;
    access = { token: issued.accessToken, expiresAt, refreshAt: expiresAt - marginMs(issued.expiresIn) };
    stored.set(issued.refreshToken);
    ended = false;
    schedule(access.refreshAt - now);
    setState("signed-in");
  }

  function forget() {
    access = null;
    window.clearTimeout(timer);
    stored.clear();
    setState("signed-out");
  }

  /** The new pair, or null when the service says the session is over. Read inside the lock: another tab may just have rotated. */
  async function requestRefresh(): Promise<IssuedTokens | null> {
    const refreshToken = stored.get();
    if (!useCookie && !refreshToken) return null;
    const signal = AbortSignal.timeout(REFRESH_TIMEOUT_MS);
    let response: Response;
    try {
      response = await fetch(graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(useCookie ? { query: REFRESH_FROM_COOKIE } : { query: REFRESH, variables: { refreshToken } }),
        signal,
      });
    } catch {
      throw new RefreshFailed(signal.aborted ? "The service did not answer in time" : "The service cannot be reached");
    }
    const body = (await response.json().catch(() => null)) as RefreshResponse | null;
    if (body?.data?.refreshToken) return body.data.refreshToken;
    if (signal.aborted) throw new RefreshFailed("The service did not answer in time");
    const extensions = body?.errors?.[0]?.extensions;
    if (extensions?.code === "UNAUTHENTICATED") return null;
    throw new RefreshFailed(extensions?.code ?? `HTTP ${response.status}`, typeof extensions?.retryAfter === "number" ? extensions.retryAfter : undefined);
  }

  function refresh(): Promise<string | null> {
    inFlight ??= withLock(async () => {
      const issued = await requestRefresh();
      if (!issued) {
        ended = state === "signed-in";
        forget();
        return null;
      }
      accept(issued);
      return issued.accessToken;
    }).finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  channel?.addEventListener("message", (event: MessageEvent<Message>) => {
    if (event.data.type === "signed-out") {
      ended = state === "signed-in";
      access = null;
      window.clearTimeout(timer);
      setState("signed-out");
    } else if (event.data.type === "signed-in" && state !== "signed-in") {
      refresh().catch(() => undefined);
    }
  });

  return {
    state: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async start() {
      try {
        await refresh();
      } catch (error) {
        // Unreachable for now: show the sign-in page rather than a spinner forever, and keep
        // trying, since the session may well be alive: once a refresh gets through, it resumes.
        if (state === "unknown") setState("signed-out");
        retryAfter(0)(error);
      }
    },
    signIn(issued) {
      accept(issued);
      channel?.postMessage({ type: "signed-in" } satisfies Message);
    },
    signOut() {
      ended = false;
      forget();
      channel?.postMessage({ type: "signed-out" } satisfies Message);
    },
    async accessToken() {
      if (access && Date.now() < access.refreshAt) return access.token;
      if (state === "signed-out") return null;
      try {
        return await refresh();
      } catch (error) {
        // A token that has not expired yet still works while the refresh waits for better luck.
        if (access && Date.now() < access.expiresAt) return access.token;
        throw error;
      }
    },
    sessionEnded: () => ended,
    refresh,
    storedRefreshToken: () => stored.get(),
  };
}

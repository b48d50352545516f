import { CombinedGraphQLErrors, ServerError, ServerParseError } from "@apollo/client/errors";
import { RefreshFailed } from "./auth/tokens";

/** What a form shows: a sentence for people, and the input it is about when the service named one. */
export interface Problem {
  code: string;
  message: string;
  field?: string;
  /** Seconds to wait (RATE_LIMITED). */
  retryAfter?: number;
}

/** What the pages say when a session is over: an UNAUTHENTICATED answer, or a tab finding its session ended. */
export const SESSION_ENDED = "Your session has ended. Please sign in again.";

/** Per page, a sentence that fits better than the default for a code, or one made of the service's own. */
export type Wording = Partial<Record<string, string | ((serverMessage: string) => string)>>;

function formatWait(seconds: number): string {
  if (seconds < 120) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

function defaultMessage(code: string, serverMessage: string, retryAfter: number | undefined): string {
  switch (code) {
    case "RATE_LIMITED":
      return retryAfter ? `Too many attempts. Please wait ${formatWait(retryAfter)} and try again.` : "Too many attempts. Please wait a while and try again.";
    case "INVALID_TOKEN":
      return "This link is invalid, has expired or has already been used.";
    case "EMAIL_TAKEN":
      return "An account with this email address already exists.";
    case "UNAUTHENTICATED":
      return SESSION_ENDED;
    case "FORBIDDEN":
      return "You are not allowed to do that.";
    case "BAD_USER_INPUT":
      // The service's own sentence says what is wrong, e.g. why a password was refused.
      return serverMessage;
    case "NETWORK":
      return "We could not reach the service. Check your connection and try again.";
    case "TIMEOUT":
      return "The service did not answer in time. Please try again in a moment.";
    default:
      return "Something went wrong on our side. Please try again in a moment.";
  }
}

/** Any error from Apollo Client or the token refresh, as something a person can act on. */
export function describeError(error: unknown, wording: Wording = {}): Problem {
  let code = "INTERNAL_SERVER_ERROR";
  let serverMessage = "";
  let field: string | undefined;
  let retryAfter: number | undefined;

  if (CombinedGraphQLErrors.is(error) && error.errors[0]) {
    const [first] = error.errors;
    const extensions = first.extensions ?? {};
    code = typeof extensions.code === "string" ? extensions.code : code;
    serverMessage = first.message;
    field = typeof extensions.field === "string" ? extensions.field : undefined;
    retryAfter = typeof extensions.retryAfter === "number" ? Math.max(1, Math.ceil(extensions.retryAfter)) : undefined;
  } else if (error instanceof DOMException && error.name === "TimeoutError") {
    // An operation past its deadline (graphql/client.ts).
    code = "TIMEOUT";
  } else if (error instanceof RefreshFailed || error instanceof TypeError || ServerParseError.is(error)) {
    code = "NETWORK";
  } else if (ServerError.is(error)) {
    code = error.statusCode === 429 ? "RATE_LIMITED" : error.statusCode >= 500 ? "INTERNAL_SERVER_ERROR" : "NETWORK";
  }

  const worded = wording[code];
  const message = typeof worded === "function" ? worded(serverMessage) : (worded ?? defaultMessage(code, serverMessage, retryAfter));
  return { code, message, field, retryAfter };
}

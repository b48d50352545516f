import { GraphQLError, Kind, parse, visit, type ArgumentNode, type GraphQLFormattedError, type ObjectFieldNode, type Source } from "graphql";
import { unwrapResolverError } from "@apollo/server/errors";

/** The contract's error vocabulary: every GraphQL error carries one of these as extensions.code. */
export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "BAD_USER_INPUT"
  | "EMAIL_TAKEN"
  | "INVALID_TOKEN"
  | "RATE_LIMITED"
  | "INTERNAL_SERVER_ERROR";

/** An expected failure whose code and message may be shown to the client. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "AppError";
  }
}

export const unauthenticated = (message = "Authentication required") => new AppError("UNAUTHENTICATED", message);
export const forbidden = (message = "Not allowed") => new AppError("FORBIDDEN", message);
export const badInput = (field: string, message: string) => new AppError("BAD_USER_INPUT", message, { field });
export const emailTaken = (field = "email") => new AppError("EMAIL_TAKEN", "An account with this email already exists", { field });
export const invalidToken = (message = "This link is invalid or has expired") => new AppError("INVALID_TOKEN", message);
// One answer whatever made the token unusable: which check failed is nobody's business.
export const invalidAccessToken = () => unauthenticated("Invalid or expired access token");
export const invalidRefreshToken = () => unauthenticated("Invalid or expired refresh token");

// Errors that Apollo and graphql-js raise before a resolver runs (parse, validation,
// variable coercion, bad requests) are the client's fault and already safe to show.
const CLIENT_ERROR_CODES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
]);

export const INTERNAL_MESSAGE = "Internal server error";

/** Codes of the answers given outside a GraphQL operation: the contract's, Apollo's BAD_REQUEST, and NOT_FOUND for a path. */
export type HttpErrorCode = ErrorCode | "BAD_REQUEST" | "NOT_FOUND";

/** The body of an error answered outside a GraphQL operation, shaped as GraphQL's errors are. */
export function errorBody(code: HttpErrorCode, message: string) {
  return { errors: [{ message, extensions: { code } }] };
}

// Where graphql-js says the wrong part of a variable's value sits: `at "input.password"`, or
// the field it lacks: `Field "password" of required type "String!" was not provided`.
const VALUE_PATH = / at "[^"]*?(\w+)(?:\[\d+\])*"; /;
const MISSING_FIELD = /; Field "(\w+)" of required type /;

/** The argument, or the field of an input object, whose value is `$variable` in the document. */
function usageOf(variable: string, source: Source | undefined): string | undefined {
  if (!source) return undefined;
  let usage: string | undefined;
  const visitor = (node: ArgumentNode | ObjectFieldNode) => {
    if (usage === undefined && node.value.kind === Kind.VARIABLE && node.value.name.value === variable) usage = node.name.value;
  };
  try {
    visit(parse(source), { Argument: visitor, ObjectField: visitor });
  } catch {
    return undefined;
  }
  return usage;
}

/**
 * The input a value of the wrong type was given for, as the contract's `extensions.field`
 * names it on our own errors. Apollo refuses such a variable (BAD_USER_INPUT) before any
 * resolver runs, pointing at its definition: the field inside its value that is wrong or
 * missing, else the argument it is passed as (`ttlSeconds` for `$t`), else its own name.
 */
function inputOf(error: unknown): string | undefined {
  if (!(error instanceof GraphQLError)) return undefined;
  const node = error.nodes?.[0];
  if (node?.kind !== Kind.VARIABLE_DEFINITION) return undefined;
  const variable = node.variable.name.value;
  const within = VALUE_PATH.exec(error.message) ?? MISSING_FIELD.exec(error.message);
  return within?.[1] ?? usageOf(variable, node.loc?.source) ?? variable;
}

/**
 * What an error is, decided once for formatError and the fault log: an AppError, shown as it
 * is; a client error Apollo or graphql-js raised before any resolver ran, shown with its
 * code; or a fault of ours, which no client may see (it is logged, and masked). A resolver's
 * GraphQLError that claims a client code is a fault too.
 */
type Classified = { kind: "app"; error: AppError } | { kind: "client"; code: string } | { kind: "fault" };

function classify(error: unknown): Classified {
  const original = unwrapResolverError(error);
  if (original instanceof AppError) return { kind: "app", error: original };
  if (isUncodedRefusal(error)) return { kind: "client", code: "BAD_REQUEST" };
  const code = error instanceof GraphQLError ? error.extensions?.code : undefined;
  if (typeof code === "string" && CLIENT_ERROR_CODES.has(code) && original === error) return { kind: "client", code };
  return { kind: "fault" };
}

/** Whether an error is a fault of ours (graphql/plugins/fault-log.ts logs those). */
export const isInternalFault = (error: unknown): boolean => classify(error).kind === "fault";

/**
 * A refusal Apollo raises before any resolver with a 4xx status but no code: an automatic
 * persisted query whose version it does not know or whose hash is not the query's. The
 * client's mistake, answered as BAD_REQUEST (it was an anonymous INTERNAL_SERVER_ERROR).
 */
function isUncodedRefusal(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.path || error.originalError || error.extensions?.code !== undefined) return false;
  const status = (error.extensions?.http as { status?: unknown } | undefined)?.status;
  return typeof status === "number" && status >= 400 && status < 500;
}

/**
 * The only place where errors become responses. AppErrors pass with their code;
 * Apollo's own client errors pass as they are; anything else is masked, so no stack, SQL
 * or library message reaches a client (graphql/plugins/fault-log.ts logs it first).
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const { locations, path } = formatted;
  const classified = classify(error);
  switch (classified.kind) {
    case "app": {
      const { message, code, extensions } = classified.error;
      return { message, locations, path, extensions: { ...extensions, code } };
    }
    case "client": {
      const { code } = classified;
      const field = code === "BAD_USER_INPUT" ? inputOf(error) : undefined;
      return { message: formatted.message, locations, path, extensions: field ? { code, field } : { code } };
    }
    case "fault":
      return { message: INTERNAL_MESSAGE, locations, path, extensions: { code: "INTERNAL_SERVER_ERROR" } };
  }
}

// graphql-js's "Did you mean …?" names fields, arguments, types and enum values near a typo.
const SUGGESTION = / ?Did you mean [^?]*\?/g;

/**
 * formatError for a schema kept from callers (GRAPHQL_INTROSPECTION off): the same answers,
 * less the suggestions that would describe the schema one typo at a time. graphql-armor's own
 * mask matched `Did you mean "…"` only: not "Did you mean the enum value …?", and it left a
 * "[Suggestion hidden]?" behind.
 */
export function formatErrorHidingSchema(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const answer = formatError(formatted, error);
  const message = answer.message.replace(SUGGESTION, "");
  return message === answer.message ? answer : { ...answer, message };
}

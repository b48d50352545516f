import type { ApolloServerPlugin, GraphQLResponse } from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import { DrizzleQueryError } from "drizzle-orm";
import type { DocumentNode, OperationDefinitionNode } from "graphql";
import postgres from "postgres";
import type { Metrics } from "../../http/metrics";
import type { Context } from "../context";
import { rootFields } from "../root-fields";

/** What a GraphQL request did, for its line in the request log. */
export interface OperationSummary {
  /** The name the client gave its operation: logged, never a metric label. */
  operationName: string | null;
  /** The metric label: see operationLabel. */
  operation: string;
  /** The codes of the errors in the response, as the client saw them; empty when it succeeded. */
  errorCodes: string[];
}

const MAX_LOGGED_NAME = 100;

/**
 * The root field (login, me), "multiple", or "none" when no operation was resolved (parse
 * or validation errors). Root fields come from the schema, so the label has a bounded set
 * of values; operation names are the client's choice, and each new one would be a new series.
 */
function operationLabel(operation: OperationDefinitionNode | undefined, document: DocumentNode | undefined): string {
  if (!operation || !document) return "none";
  const fields = rootFields(operation, document);
  return fields.length === 1 ? fields[0]! : "multiple";
}

function errorCodesOf(response: GraphQLResponse): string[] {
  const errors = response.body.kind === "single" ? response.body.singleResult.errors : response.body.initialResult.errors;
  return [...new Set((errors ?? []).map((error) => String(error.extensions?.code ?? "INTERNAL_SERVER_ERROR")))];
}

/** Drizzle's error for a failed query, or a PostgreSQL server error, anywhere among the causes. */
function isDatabaseError(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof DrizzleQueryError || cause instanceof postgres.PostgresError) return true;
  }
  return false;
}

/**
 * Counts every GraphQL operation by root field and outcome (ok, or the code of its first
 * error), times it, counts the ones that failed on the database, and hands a summary to
 * the request log through the context.
 */
export function operationMetricsPlugin(metrics: Metrics): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async didEncounterErrors({ errors }) {
          if (errors.some((error) => isDatabaseError(unwrapResolverError(error)))) metrics.databaseErrors.inc();
        },
        async willSendResponse({ request, response, document, operation: resolved, operationName: resolvedName }) {
          const operation = operationLabel(resolved, document);
          const errorCodes = errorCodesOf(response);
          metrics.graphqlRequests.inc({ operation, outcome: errorCodes[0] ?? "ok" });
          metrics.graphqlDuration.observe({ operation }, (performance.now() - started) / 1000);
          // The name in the document once resolved; the one the client sent when it could not be.
          const operationName = (resolvedName ?? request.operationName)?.slice(0, MAX_LOGGED_NAME) ?? null;
          contextValue.reportOperation({ operationName, operation, errorCodes });
        },
      };
    },
  };
}

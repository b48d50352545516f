import type { ApolloServerPlugin, GraphQLRequestListener } from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import { isInternalFault } from "../../errors";
import type { Logger } from "../../logger";
import type { Context } from "../context";

/**
 * Logs each fault of ours an operation met (formatError masks it in the response) with the
 * request's id, so the cause joins the request's own line in the log.
 */
export function faultLogPlugin(logger: Logger): ApolloServerPlugin<Context> {
  // The same listener serves every request: what it needs comes with the call.
  const listener: GraphQLRequestListener<Context> = {
    async didEncounterErrors({ errors, contextValue }) {
      for (const error of errors) {
        if (isInternalFault(error)) logger.error({ err: unwrapResolverError(error), requestId: contextValue.client.requestId }, "unexpected error in a GraphQL operation");
      }
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}

import { HeaderMap, type ApolloServerPlugin } from "@apollo/server";
import type { Database } from "../../db/client";
import { errorBody, INTERNAL_MESSAGE } from "../../errors";
import type { Metrics } from "../../http/metrics";
import type { Context } from "../context";
import { rootFields } from "../root-fields";

// Answered from the schema alone: a gateway can still compose while the database is away.
const WITHOUT_DATABASE = new Set(["__typename", "__schema", "__type", "_service"]);

const RETRY_AFTER_SECONDS = "5";

/**
 * Until the migrations are applied (db/startup-migration.ts) the tables may be missing or
 * from an older release, so an operation that could reach them is answered at once, before
 * any resolver runs: INTERNAL_SERVER_ERROR, as for any database failure, with a 503 that
 * tells a load balancer or client to try again shortly.
 */
export function requireDatabasePlugin(deps: { database: Pick<Database, "isMigrated">; metrics: Metrics }): ApolloServerPlugin<Context> {
  const { database, metrics } = deps;
  return {
    async requestDidStart() {
      // Once the migrations are applied (for nearly every request) there is nothing to guard.
      if (database.isMigrated) return;
      return {
        async responseForOperation({ operation, document }) {
          if (database.isMigrated || rootFields(operation, document).every((field) => WITHOUT_DATABASE.has(field))) return null;
          metrics.databaseErrors.inc();
          return {
            http: { status: 503, headers: new HeaderMap([["retry-after", RETRY_AFTER_SECONDS]]) },
            body: { kind: "single", singleResult: errorBody("INTERNAL_SERVER_ERROR", INTERNAL_MESSAGE) },
          };
        },
      };
    },
  };
}

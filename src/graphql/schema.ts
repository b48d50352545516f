import "reflect-metadata";
import { buildSubgraphSchema, printSubgraphSchema } from "@apollo/subgraph";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import { type GraphQLSchema, parse } from "graphql";
import { buildSchema, createResolversMap } from "type-graphql";
import { isUuid } from "../auth/ids";
import type { UserRow } from "../db/schema";
import { authChecker } from "./auth-checker";
import type { Context } from "./context";
import { AdminResolver } from "./resolvers/admin.resolver";
import { AuthResolver } from "./resolvers/auth.resolver";
import { EmailTokenResolver } from "./resolvers/email-token.resolver";
import { OneTimeTokenResolver } from "./resolvers/one-time-token.resolver";
import { SessionResolver } from "./resolvers/session.resolver";
import { UserResolver } from "./resolvers/user.resolver";

const FEDERATION_LINK = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])`;

const referenceResolvers = {
  User: {
    // Entities from the gateway are batched through the request's DataLoader: one query for N users.
    __resolveReference(reference: { id: string }, ctx: Context): Promise<UserRow | null> | null {
      return isUuid(reference.id) ? ctx.loaders.userById.load(reference.id.toLowerCase()) : null;
    },
  },
};

/**
 * type-graphql builds the schema from the resolvers; @apollo/subgraph then adds the
 * federation plumbing (_service, _entities), the way type-graphql's federation example does.
 */
export async function buildGraphQLSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [AuthResolver, SessionResolver, UserResolver, AdminResolver, EmailTokenResolver, OneTimeTokenResolver],
    authChecker,
    validate: false,
    // The subgraph layer below adds the parts that the plain schema check would miss.
    skipCheck: true,
  });
  const resolvers = createResolversMap(schema) as Record<string, Record<string, unknown>>;
  return buildSubgraphSchema({
    typeDefs: parse(`${FEDERATION_LINK}\n${printSchemaWithDirectives(schema)}`),
    resolvers: { ...resolvers, User: { ...resolvers.User, ...referenceResolvers.User } } as never,
  });
}

/** The SDL committed as schema.graphql, with its @link and @key directives. */
export function printGraphQLSchema(schema: GraphQLSchema): string {
  return `${printSubgraphSchema(schema).trim()}\n`;
}

import "reflect-metadata";
import { buildSubgraphSchema, printSubgraphSchema } from "@apollo/subgraph";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import { type GraphQLSchema, parse } from "graphql";
import { buildSchema, createResolversMap } from "type-graphql";
import { isUuid } from "../auth/ids";
import type { UserView } from "../db/schema";
import { badInput } from "../errors";
import { authChecker } from "./auth-checker";
import type { Context } from "./context";
import { AdminResolver, UserConnectionResolver } from "./resolvers/admin.resolver";
import { AuthResolver } from "./resolvers/auth.resolver";
import { EmailTokenResolver } from "./resolvers/email-token.resolver";
import { OneTimeTokenResolver } from "./resolvers/one-time-token.resolver";
import { SessionResolver } from "./resolvers/session.resolver";
import { UserResolver } from "./resolvers/user.resolver";

const FEDERATION_LINK = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])`;

const referenceResolvers = {
  User: {
    // Entities from the gateway are batched through the request's DataLoader: one query for N users.
    __resolveReference(reference: { id: string }, ctx: Context): Promise<UserView | null> | null {
      return isUuid(reference.id) ? ctx.loaders.userById.load(reference.id.toLowerCase()) : null;
    },
  },
};

/** A representation this subgraph resolves: a User by its id, as a gateway sends it. */
const isUserReference = (representation: unknown): boolean =>
  typeof representation === "object" && representation !== null && (representation as { __typename?: unknown }).__typename === "User" && typeof (representation as { id?: unknown }).id === "string";

/**
 * Guards `_entities`, which @apollo/subgraph builds itself, so its resolver is wrapped here:
 * - it caps the representations one request may ask for, its aliases together. graphql-armor's
 *   cost limit counts fields, not list lengths, so one anonymous 93 KB request of 15 aliases
 *   × 1,400 representations made ~21,000 resolutions (a quarter of a second of CPU);
 * - it refuses a representation that is no User with a string id: @apollo/subgraph and the
 *   reference resolver would fail on it with an error of their own, each an anonymous
 *   INTERNAL_SERVER_ERROR logged as a fault.
 */
function guardEntities(schema: GraphQLSchema, max: number): void {
  const field = schema.getQueryType()!.getFields()._entities!;
  const resolve = field.resolve!;
  const resolved = new WeakMap<object, number>();
  field.resolve = (source, args: { representations: unknown[] }, context: Context, info) => {
    const total = (resolved.get(context) ?? 0) + args.representations.length;
    resolved.set(context, total);
    if (total > max) throw badInput("representations", `At most ${max} entity representations per request`);
    if (!args.representations.every(isUserReference)) throw badInput("representations", 'Each representation must be { __typename: "User", id: String }');
    return resolve(source, args, context, info);
  };
}

/**
 * type-graphql builds the schema from the resolvers; @apollo/subgraph then adds the
 * federation plumbing (_service, _entities), the way type-graphql's federation example does.
 */
export async function buildGraphQLSchema(options: { maxEntities?: number } = {}): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [AuthResolver, SessionResolver, UserResolver, AdminResolver, UserConnectionResolver, EmailTokenResolver, OneTimeTokenResolver],
    authChecker,
    validate: false,
    // The subgraph layer below adds the parts that the plain schema check would miss.
    skipCheck: true,
  });
  const resolvers = createResolversMap(schema) as Record<string, Record<string, unknown>>;
  const subgraph = buildSubgraphSchema({
    typeDefs: parse(`${FEDERATION_LINK}\n${printSchemaWithDirectives(schema)}`),
    resolvers: { ...resolvers, User: { ...resolvers.User, ...referenceResolvers.User } } as never,
  });
  // The shape check holds whoever builds the schema; the cap only where one is configured.
  guardEntities(subgraph, options.maxEntities ?? Infinity);
  return subgraph;
}

/** The SDL committed as schema.graphql, with its @link and @key directives. */
export function printGraphQLSchema(schema: GraphQLSchema): string {
  return `${printSubgraphSchema(schema).trim()}\n`;
}

import { composeServices } from "@apollo/composition";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";
import { register, startTestApp, type AuthPayload, type TestApp } from "../helpers/test-app";

// A second subgraph written for this test: posts that reference their author User.
const POSTS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Post @key(fields: "id") { id: ID! title: String! author: User! }
  type User @key(fields: "id", resolvable: false) { id: ID! }
  type Query { posts: [Post!]! }
`;

interface GatewayContext {
  authorization?: string;
}

let auth: TestApp;
let posts: ApolloServer;
let gateway: ApolloServer<GatewayContext>;
let gatewayUrl: string;
let authors: AuthPayload[];
const queries: string[] = [];

beforeAll(async () => {
  auth = await startTestApp({}, { onQuery: (sql) => queries.push(sql) });
  authors = [];
  for (let i = 0; i < 5; i++) authors.push(await register(auth, { name: `Author ${i}` }));

  posts = new ApolloServer({
    schema: buildSubgraphSchema({
      typeDefs: parse(POSTS_SDL),
      resolvers: {
        Query: { posts: () => authors.map((a, i) => ({ id: `p${i}`, title: `Post ${i}`, author: { id: a.user.id } })) },
      },
    }),
  });
  const { url: postsUrl } = await startStandaloneServer(posts, { listen: { port: 0, host: "127.0.0.1" } });

  // Compose the supergraph from what the running auth service says about itself.
  const sdl = (await auth.gql(`{ _service { sdl } }`)).data?._service.sdl as string;
  const composed = composeServices([
    { name: "auth", typeDefs: parse(sdl), url: `${auth.url}/graphql` },
    { name: "posts", typeDefs: parse(POSTS_SDL), url: postsUrl },
  ]);
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join("\n"));

  gateway = new ApolloServer<GatewayContext>({
    gateway: new ApolloGateway({
      supergraphSdl: composed.supergraphSdl,
      buildService: ({ url }) =>
        new RemoteGraphQLDataSource<GatewayContext>({
          url,
          // The gateway forwards the caller's bearer token to the subgraphs.
          willSendRequest({ request, context }) {
            if (context.authorization) request.http?.headers.set("authorization", context.authorization);
          },
        }),
    }),
  });
  ({ url: gatewayUrl } = await startStandaloneServer(gateway, {
    listen: { port: 0, host: "127.0.0.1" },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  }));
});

afterAll(async () => {
  await gateway?.stop();
  await posts?.stop();
  await auth?.close();
});

test("composes beside another subgraph with a Relay PageInfo of its own", async () => {
  const sdl = (await auth.gql(`{ _service { sdl } }`)).data?._service.sdl as string;
  const relay = `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@shareable"])
    type PageInfo @shareable { hasNextPage: Boolean! endCursor: String }
    type Query { catalogue: PageInfo }
  `;
  const composed = composeServices([
    { name: "auth", typeDefs: parse(sdl), url: "http://auth.invalid/graphql" },
    { name: "catalogue", typeDefs: parse(relay), url: "http://catalogue.invalid/graphql" },
  ]);
  expect(composed.errors?.map((error) => error.message)).toBeUndefined();
});

async function viaGateway(query: string, token?: string) {
  const res = await fetch(gatewayUrl, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as { data?: any; errors?: { extensions: { code: string } }[] };
}

test("the gateway resolves post authors from this service, all in one SQL query", async () => {
  queries.length = 0;
  const res = await viaGateway(`{ posts { title author { id name } } }`);
  expect(res.errors).toBeUndefined();
  expect(res.data.posts.map((p: any) => p.author)).toEqual(authors.map((a) => ({ id: a.user.id, name: a.user.name })));
  expect(queries).toHaveLength(1);
  expect(queries[0]).toMatch(/from "users"/);
  // Only what a User shows: a gateway's batch never reads a password hash.
  expect(queries[0]).not.toMatch(/password_hash|token_version/);
});

test("lookups that arrive together, from different requests' loaders, share one SQL query and each get their own users", async () => {
  const [a, b, c] = authors.map((author) => author.user.id);
  const unknown = "00000000-0000-4000-8000-000000000000";
  const { users } = auth.app.services;
  queries.length = 0;
  const [first, second] = await Promise.all([users.findByIds([a!, b!]), users.findByIds([c!, a!, unknown])]);
  expect(first.map((user) => user?.id)).toEqual([a, b]);
  expect(second.map((user) => user?.id ?? null)).toEqual([c, a, null]);
  expect(queries).toHaveLength(1);
});

test("me works through the gateway with the forwarded Authorization header", async () => {
  const res = await viaGateway(`{ me { id email } }`, authors[0]!.accessToken);
  expect(res.data.me).toEqual({ id: authors[0]!.user.id, email: authors[0]!.user.email });
});

test("another author's email stays FORBIDDEN through the gateway", async () => {
  const res = await viaGateway(`{ posts { author { id email } } }`, authors[0]!.accessToken);
  expect(res.errors?.some((e) => e.extensions.code === "FORBIDDEN")).toBe(true);
});

test("the fields the contract leaves public reach anyone through the gateway", async () => {
  const res = await viaGateway(`{ posts { author { id name active createdAt } } }`);
  expect(res.errors).toBeUndefined();
  expect(res.data.posts.map((p: any) => p.author)).toEqual(
    authors.map((a) => ({ id: a.user.id, name: a.user.name, active: true, createdAt: a.user.createdAt })),
  );
});

test("_entities resolves at most FEDERATION_MAX_ENTITIES representations per request, its aliases together", async () => {
  const capped = await startTestApp({ FEDERATION_MAX_ENTITIES: "10" });
  try {
    const reps = authors.slice(0, 5).map((a) => ({ __typename: "User", id: a.user.id }));
    const twice = `query($r: [_Any!]!) { a: _entities(representations: $r) { ... on User { id } } b: _entities(representations: $r) { ... on User { id } } }`;
    const ten = await capped.gql(twice, { r: reps });
    expect(ten.errors).toBeUndefined();
    expect(ten.data?.b).toHaveLength(5);
    const eleven = await capped.gql(twice, { r: [...reps, reps[0]] });
    expect(eleven.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "representations" });
  } finally {
    await capped.close();
  }
});

test("a representation that is no User with a string id is BAD_USER_INPUT, not a fault", async () => {
  const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id } } }`;
  const id = authors[0]!.user.id;
  const malformed = [{ __typename: "User", id: [id] }, { __typename: "Session", id }, { __typename: "Foo", id }, { id }, "a string", { __typename: "User" }];
  for (const representation of malformed) {
    const res = await auth.gql(query, { r: [representation] });
    expect({ representation, extensions: res.errors?.[0]?.extensions }).toEqual({ representation, extensions: { code: "BAD_USER_INPUT", field: "representations" } });
  }
  // A malformed string id is still simply no such user.
  expect((await auth.gql(query, { r: [{ __typename: "User", id: "not-a-uuid" }] })).data).toEqual({ _entities: [null] });
});

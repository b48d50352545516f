// Ceiling of any GraphQL request: the service's HTTP stack (Fastify 5, @as-integrations/fastify,
// Apollo Server 5) with a trivial schema and nothing else. Listens on an ephemeral port of
// 127.0.0.1 and prints {"url": …} once it does; stops on SIGTERM.
import { ApolloServer } from "@apollo/server";
import { fastifyApolloHandler } from "@as-integrations/fastify";
import Fastify from "fastify";

const apollo = new ApolloServer({ typeDefs: "type Query { hello: String }", resolvers: { Query: { hello: () => "world" } } });
await apollo.start();
const http = Fastify();
http.route({ url: "/graphql", method: ["GET", "POST", "OPTIONS"], handler: fastifyApolloHandler(apollo) });
const url = await http.listen({ port: 0, host: "127.0.0.1" });
console.log(JSON.stringify({ url }));
process.on("SIGTERM", () => {
  void apollo.stop().then(() => http.close()).then(() => process.exit(0));
});

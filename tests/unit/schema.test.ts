import "reflect-metadata";
import { readFileSync } from "node:fs";
import path from "node:path";
import { buildGraphQLSchema, printGraphQLSchema } from "../../src/graphql/schema";

test("the committed schema.graphql is what the resolvers print (run npm run schema:print)", async () => {
  const committed = readFileSync(path.join(__dirname, "../../schema.graphql"), "utf8");
  expect(printGraphQLSchema(await buildGraphQLSchema())).toBe(committed);
});

import "reflect-metadata";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { buildGraphQLSchema, printGraphQLSchema } from "../graphql/schema";

/** Rewrites schema.graphql from the resolvers: `npm run schema:print`. */
async function main(): Promise<void> {
  const file = path.resolve(__dirname, "../../schema.graphql");
  writeFileSync(file, printGraphQLSchema(await buildGraphQLSchema()));
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

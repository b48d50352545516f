import { ApolloArmor } from "@escape.tech/graphql-armor";
import type { ParseOptions } from "graphql";

/**
 * Limits that refuse abusive documents while they are parsed and validated, before any
 * resolver runs: a thousand aliases, deep nesting or a huge query cost one cheap refusal.
 * The numbers sit well above what this schema's real operations need (depth 4, no aliases).
 */
export function createArmor() {
  const armor = new ApolloArmor({
    // The token limit is graphql-js's own (parseOptions below): armor's plugin parses the
    // document a second time and throws from Apollo's parsingDidStart hook, which turns every
    // syntax error into an HTTP 500 GRAPHQL_VALIDATION_FAILED (graphql-armor issues #571, #751).
    maxTokens: { enabled: false },
    maxAliases: { n: 15 },
    maxDepth: { n: 8, ignoreIntrospection: true },
    maxDirectives: { n: 20 },
    costLimit: { maxCost: 5000, ignoreIntrospection: true },
    // Suggestions are taken out by formatErrorHidingSchema (errors.ts), enum values' too.
    blockFieldSuggestion: { enabled: false },
  }).protect();
  // A document over the limit is a syntax error like any other: 400, GRAPHQL_PARSE_FAILED.
  const parseOptions: ParseOptions = { maxLexicalTokens: 1000 };
  return { ...armor, parseOptions };
}

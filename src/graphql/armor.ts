import { ApolloArmor } from "@escape.tech/graphql-armor";
import type { ParseOptions } from "graphql";

/**
 * Limits that refuse abusive documents while they are parsed and validated, before any
 * resolver runs: a thousand aliases, deep nesting or a huge query cost one cheap refusal.
 * The numbers sit well above what this schema's real operations need (depth 4, no aliases).
 */
export function createArmor(options: { hideSchema: boolean }) {
  const armor = new ApolloArmor({
    // The token limit is graphql-js's own (parseOptions below): armor's plugin parses the
    // document a second time and throws from Apollo's parsingDidStart hook, which turns every
    // syntax error into an HTTP 500 GRAPHQL_VALIDATION_FAILED (graphql-armor issues #571, #751).
    maxTokens: { enabled: false },
    maxAliases: { n: 15 },
    maxDepth: { n: 8, ignoreIntrospection: true },
    maxDirectives: { n: 20 },
    costLimit: { maxCost: 5000, ignoreIntrospection: true },
    // "Did you mean …?" would describe the schema to a caller who cannot introspect it.
    blockFieldSuggestion: { enabled: options.hideSchema },
  }).protect();
  // A document over the limit is a syntax error like any other: 400, GRAPHQL_PARSE_FAILED.
  const parseOptions: ParseOptions = { maxLexicalTokens: 1000 };
  return { ...armor, parseOptions };
}

import { ApolloArmor } from "@escape.tech/graphql-armor";

/**
 * Limits that refuse abusive documents while they are parsed and validated, before any
 * resolver runs: a thousand aliases, deep nesting or a huge query cost one cheap refusal.
 * The numbers sit well above what this schema's real operations need (depth 4, no aliases).
 */
export function createArmor(options: { hideSchema: boolean }) {
  return new ApolloArmor({
    maxTokens: { n: 1000 },
    maxAliases: { n: 15 },
    maxDepth: { n: 8, ignoreIntrospection: true },
    maxDirectives: { n: 20 },
    costLimit: { maxCost: 5000, ignoreIntrospection: true },
    // "Did you mean …?" would describe the schema to a caller who cannot introspect it.
    blockFieldSuggestion: { enabled: options.hideSchema },
  }).protect();
}

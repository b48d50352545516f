import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "coverage/", "node_modules/", "drizzle/", "web/dist/", "bench/results/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "Read settings through src/config.ts" }],
    },
  },
  {
    files: ["tests/**", "bench/**", "drizzle.config.ts", "jest.config.js", "src/config.ts", "src/server.ts", "src/cli/**", "web/vite.config.mts"],
    rules: { "no-restricted-properties": "off", "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    // The account pages (web/) run in the browser; their settings come from the page, not process.env.
    files: ["web/**"],
    languageOptions: { globals: globals.browser },
  },
);

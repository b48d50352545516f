import { defineConfig } from "vite";

// Built by `npm run build` (vite build web) into web/dist, which the service serves at /account/.
// `npm run dev:web` serves the pages with live reload and sends /graphql to a service on :4000.
export default defineConfig(({ command }) => {
  // Vite takes "production" from NODE_ENV, read after this runs: a caller running with
  // NODE_ENV=test (jest) would otherwise get React's and Apollo Client's development builds.
  if (command === "build") process.env.NODE_ENV = "production";
  return {
    base: "/account/",
    // React's automatic JSX runtime, compiled by Vite's own transformer: no plugin needed.
    oxc: { jsx: { runtime: "automatic" } },
    build: {
      outDir: "dist",
      emptyOutDir: true,
      // The service sets a strict CSP on these pages: keep every asset a file of this origin.
      assetsInlineLimit: 0,
    },
    server: {
      proxy: { "/graphql": "http://localhost:4000" },
    },
  };
});

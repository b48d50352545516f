// npm test runs jest with --experimental-vm-modules: PGlite's CommonJS build loads parts of
// itself with dynamic import(), which jest's module sandbox refuses without that flag.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  // Browser tests need Chromium: `npm run test:e2e` (jest.e2e.config.js) runs them.
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/tests/e2e/"],
  // Transpile only (tsc --noEmit type-checks in CI), with the decorator metadata type-graphql reads.
  transform: { "^.+\\.ts$": ["ts-jest", { transpilation: true }] },
  globalSetup: "<rootDir>/tests/helpers/global-setup.ts",
  globalTeardown: "<rootDir>/tests/helpers/global-teardown.ts",
  testTimeout: 30_000,
  // Jest defaults to cores - 1 workers: one, here. On the embedded back ends the files wait on
  // PGlite's WASM, and two keep both cores busy. Against PostgreSQL and Redis they mostly wait on
  // those servers and on timers, and a third overlaps the waits (on a 2-core EPYC: 180 s → 146 s,
  // the cores' use from 64% to 72%).
  maxWorkers: process.env.TEST_DATABASE_URL ? 3 : 2,
  // Under --experimental-vm-modules a worker keeps every finished file's modules (jestjs/jest#14605),
  // PGlite's WASM memories among them: ~30 MB of heap and ~70 MB of RSS a file. A worker that
  // ended a run at ~1.8 GB took about a second to exit, so jest, after half a second, reported
  // it as failing to exit gracefully and killed it (once in most runs). Past this heap a worker
  // is replaced between files: no such report in two runs since, and the run no slower (211 s, from 228 s).
  workerIdleMemoryLimit: "200MB",
};

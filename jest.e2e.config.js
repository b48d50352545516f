// `npm run test:e2e`: the account pages in Debian's Chromium (/usr/bin/chromium) against the
// real service; kept out of `npm test` (jest.config.js), which needs nothing but Node.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests/e2e"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { transpilation: true }] },
  globalSetup: "<rootDir>/tests/helpers/global-setup.ts",
  globalTeardown: "<rootDir>/tests/helpers/global-teardown.ts",
  // Two files at a time, each with its own service and browser: the journeys mostly wait on
  // real token lifetimes (5 s access tokens, an 8 s refresh timeout), so two overlap their
  // waits (~97 s → ~70 s here) and still passed with a third process holding one core busy.
  maxWorkers: 2,
  // As in jest.config.js: a worker keeps every finished file's modules (jestjs/jest#14605), here
  // ~120 MB of heap a file (one ended a run at 423 MB after three), and CI once reported a worker
  // as failing to exit gracefully. Past this heap a worker is replaced between files: the last
  // file then ran in a fresh one (150 MB).
  workerIdleMemoryLimit: "200MB",
  testTimeout: 120_000,
};

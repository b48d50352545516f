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
  // One browser at a time: two cores, and the journeys wait on real token lifetimes.
  maxWorkers: 1,
  testTimeout: 120_000,
};

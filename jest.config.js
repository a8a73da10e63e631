// Two projects: `fast` (unit, integration, conformance, fuzz, browser) and `slow` (test/slow: floods, a DigiCert
// outage, several replicas, pacing without Redis; minutes, not seconds). `npm test` (plain `jest`, as CI runs it)
// runs both; `npm run test:fast` (`jest --selectProjects fast`) skips the slow ones for a quick local loop.
const shared = {
  preset: "ts-jest",
  testEnvironment: "node",
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.test.json" }] },
};

/** @type {import('jest').Config} */
module.exports = {
  // A global option (it applies to every project).
  testTimeout: 20000,
  projects: [
    { ...shared, displayName: "fast", roots: ["<rootDir>/test"], testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/slow/"] },
    { ...shared, displayName: "slow", roots: ["<rootDir>/test/slow"] },
  ],
};

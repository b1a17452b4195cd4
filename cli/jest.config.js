/** CLI tests: the built `authwatch` binary (cli/dist/main.js) against real collector processes. */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  testTimeout: 120000,
  // Each file starts its own collectors; two at a time is what the shared 2-core machine affords.
  maxWorkers: 2,
};

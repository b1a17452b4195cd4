/** Demo tests: the demo app against a live collector, and `npm start` end to end on a temp store. */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  testTimeout: 180000,
  // start.test.ts runs `npm start`, which rebuilds collector/dist: no other file may be loading a
  // collector from it at the same time.
  maxWorkers: 1,
};

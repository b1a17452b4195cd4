/** Reliability suite (kill -9 durability, fuzzing, auth matrix): slower, runs collector processes. */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testMatch: ['<rootDir>/test/reliability/**/*.test.ts'],
  testTimeout: 600000,
  maxWorkers: 1,
};

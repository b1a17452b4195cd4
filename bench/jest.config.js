/** The benchmark's own tools: its figures decide PASS and MISS, so the clients are tested too. */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testMatch: ['<rootDir>/**/*.test.ts'],
  testTimeout: 60000,
};

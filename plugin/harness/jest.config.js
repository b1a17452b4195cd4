// Browser tests: the built plugin in Debian's Chromium against a live collector (npm run test:browser -w plugin).
process.env.TZ = 'UTC';

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript', tsx: true }, target: 'es2022' } }],
  },
  // One browser and one collector per file; the machine is shared, so files run one after another.
  maxWorkers: 1,
  testTimeout: 180_000,
};

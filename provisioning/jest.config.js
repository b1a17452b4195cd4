/** Provisioning tests (Prometheus rules, Grafana alerting/dashboards): TypeScript through @swc/jest. */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.tsx?$': ['@swc/jest'] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  // End-to-end tests start real processes (collector, Prometheus); they set longer limits per test.
  testTimeout: 60000,
};

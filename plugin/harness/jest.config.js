// Browser tests: the built plugin in Debian's Chromium against a live collector (npm run test:browser -w plugin).
// The suite runs twice, once per package set the page is built from: @grafana/* 12 with React 18
// (the plugin's own dependencies) and @grafana/* 13 with React 19 (harness/grafana13).
process.env.TZ = 'UTC';

const project = (packages, label) => ({
  displayName: label,
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript', tsx: true }, target: 'es2022' } }],
  },
  globals: { harnessPackages: packages },
});

module.exports = {
  projects: [project('grafana12', 'grafana 12 + react 18'), project('grafana13', 'grafana 13 + react 19')],
  // One browser and one collector per file; the machine is shared, so files run one after another.
  maxWorkers: 1,
  testTimeout: 180_000,
};

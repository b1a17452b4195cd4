// force timezone to UTC to allow tests to work regardless of local timezone
// generally used by snapshots, but can affect specific tests
process.env.TZ = 'UTC';

const base = require('./.config/jest.config');
const { grafanaESModules, nodeModulesToTransform } = require('./.config/jest/utils');

module.exports = {
  // Jest configuration provided by Grafana scaffolding
  ...base,
  // @grafana/ui 12 pulls d3 packages that ship only ESM `.mjs` files: transform those too.
  transform: {
    ...base.transform,
    '^.+\\.mjs$': base.transform['^.+\\.(t|j)sx?$'],
  },
  transformIgnorePatterns: [nodeModulesToTransform([...grafanaESModules, 'd3-.*', 'internmap', 'robust-predicates', 'delaunator'])],
  moduleFileExtensions: ['ts', 'tsx', 'js', 'jsx', 'mjs', 'cjs', 'json', 'node'],
  // src/ (the scaffold's) plus the packaging and validator scripts' tests.
  testMatch: [...base.testMatch, '<rootDir>/scripts/**/*.test.ts'],
  // harness/ holds the browser suite (own config, npm run test:browser).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/harness/'],
};

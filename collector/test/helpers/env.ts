// The test runner's own environment (CI, PATH for spawned tools, opt-in variables such as
// AUTHWATCH_GEO_CITY_DB). Tests read it here; in collector/src only config.ts and main.ts read
// process.env, so a grep for it names the collector's one configuration reader.
export const testEnv: NodeJS.ProcessEnv = process.env;
export const inCI = testEnv.CI === 'true';

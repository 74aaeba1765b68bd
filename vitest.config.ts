import { defineConfig } from 'vitest/config';

// CI asks for a JSON report to count passes and failures from (see .ci/run).
const report = process.env.MCPLANE_TEST_REPORT;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: report ? ['default', ['json', { outputFile: report }]] : ['default'],
  },
});

import { defineConfig } from 'vitest/config';

// Circuit builds and proofs are CPU-bound: run test files one at a time on
// this 2-core budget, with generous timeouts for the compile and setup steps.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
    pool: 'forks',
    reporters: ['default'],
  },
});

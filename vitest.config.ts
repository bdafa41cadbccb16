import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/setup/global.ts'],
    // The PostgreSQL suite and the browser test are part of the run, not separate commands.
    reporters: ['default'],
  },
});

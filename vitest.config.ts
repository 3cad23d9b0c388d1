import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start worker processes and Chromium; two cores: keep files from piling up.
    maxWorkers: 2,
  },
});

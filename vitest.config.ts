import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Worker threads start faster than child processes, and each test file gets a new one.
    pool: 'threads',
    // vitest keeps a core for itself by default, which on a two-core machine runs one file at a
    // time; its own process is mostly idle, and test files share nothing (one database each).
    maxWorkers: '100%',
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      // Pure code, no database, no shared state between files: `npm run test:unit`.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**'],
          // Each test file gets its own database (PGlite in memory, or a database on the server),
          // copied from the one migrated database that the global setup makes for the run.
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});

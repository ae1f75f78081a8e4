import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that start real processes or a browser (test/e2e) go first: on a clean clone vitest has
 * no timings yet and orders files by size, which put the longest ones last, where one of them
 * kept a core busy alone for half a minute at the end of the run.
 */
class ProcessesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const late = (file: TestSpecification) => (file.moduleId.includes('/test/e2e/') ? 0 : 1);
    return sorted
      .map((file, index) => ({ file, index }))
      .sort((a, b) => (a.file.project.name === b.file.project.name ? late(a.file) - late(b.file) : 0) || a.index - b.index)
      .map(({ file }) => file);
  }
}

/**
 * Files about the embedded database's own path: each starts its processes with DATABASE_URL
 * cleared (`npm start` on a fresh data folder, the demo made at install, the folder's lock, the
 * import script beside a running hub). The server pass (DATABASE_URL set) would run them again
 * unchanged, two minutes of CI for nothing: they run in the PGlite pass only.
 */
const EMBEDDED_ONLY = [
  'test/e2e/demo-template.test.ts',
  'test/e2e/fresh-start.test.ts',
  'test/e2e/embedded-lock.test.ts',
  'test/e2e/import-statement.test.ts',
];

// Worker threads start faster than child processes, and each test file gets a new one.
const common = { pool: 'threads', testTimeout: 30_000, hookTimeout: 120_000 } as const;

export default defineConfig({
  test: {
    // vitest keeps a core for itself by default, which on a two-core machine runs one file at a
    // time; its own process is mostly idle, and test files share nothing (one database each).
    // Set here, not in the projects, so that `--maxWorkers` on the command line still wins.
    maxWorkers: '100%',
    sequence: { sequencer: ProcessesFirst },
    projects: [
      // Pure code, no database, no shared state between files: `npm run test:unit`.
      { test: { ...common, name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false } },
      {
        test: {
          ...common,
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**', ...(process.env.DATABASE_URL ? EMBEDDED_ONLY : [])],
          // Each test file gets its own database (PGlite in memory, or a database on the server),
          // copied from the one migrated database that the global setup makes for the run.
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});

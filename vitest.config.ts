import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most test files wait on child processes (the built CLI, fake AWS servers, DuckDB files), not
    // on the CPU: the default of one worker per core but one left a 2-core machine running them one by one.
    maxWorkers: Math.max(3, availableParallelism()),
    // The same switch the CLI sets: no AWS SDK notice about Node.js 22 in the test output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});

// Firestore security rules tests (test/rules). They need Google's Firestore emulator, which
// cannot be downloaded here, so the suite skips itself unless FIRESTORE_EMULATOR_HOST is set;
// run it with `firebase emulators:exec --only firestore "npm run test:rules"`.
// No globalSetup: these tests need neither PostgreSQL nor Redis.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/rules/**/*.test.ts'],
    pool: 'forks',
    // One emulator, one project: files must not clear each other's data.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

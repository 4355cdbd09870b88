// Every PostgreSQL advisory lock key the service takes, in one place so no two jobs share one.
export const ADVISORY_LOCKS = {
  migrations: 360_001,
  reconcile: 360_002,
} as const;

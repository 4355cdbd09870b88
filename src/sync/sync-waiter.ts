// Read-your-writes: a write request may wait (bounded) until its outbox row is projected. The
// projector may run in this process or in a worker, so the outbox row's status is what counts.
import type { Db } from '../db/db.client.js';
import { isSyncLogCompleted } from './sync-logs.repository.js';

const POLL_MS = 20;

export class SyncWaiter {
  constructor(
    private readonly db: Db,
    private readonly timeoutMs: number,
    private readonly nudge: () => void = () => undefined,
  ) {}

  /** 'completed' once Firestore has the write, 'pending' when the bound ran out first. */
  async waitFor(syncLogId: string): Promise<'completed' | 'pending'> {
    this.nudge();
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      if (await isSyncLogCompleted(this.db, syncLogId)) return 'completed';
      if (Date.now() >= deadline) return 'pending';
      await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(1, deadline - Date.now()))));
    }
  }
}

// All Firestore I/O of the projection and reconciliation: batched reads and commits, subcollection
// listing and deletes. Counts RPCs, so benchmarks and metrics can report them. Every call has a
// deadline: a Firestore that hangs fails the attempt instead of holding a worker.
import type { DocumentData, DocumentReference, Firestore, WriteBatch } from 'firebase-admin/firestore';

export type WriteOp = { kind: 'set'; path: string; data: DocumentData } | { kind: 'delete'; path: string };

export const MAX_WRITES_PER_COMMIT = 500;

export class FirestoreWriter {
  rpcs = { commits: 0, reads: 0, queries: 0, writes: 0 };

  constructor(
    readonly db: Firestore,
    private readonly timeoutMs = 10_000,
  ) {}

  /** One batched read of many documents; missing ones come back as undefined. */
  async getAll(paths: string[]): Promise<(DocumentData | undefined)[]> {
    if (paths.length === 0) return [];
    this.rpcs.reads += 1;
    const refs = paths.map((p) => this.db.doc(p));
    const snaps = await this.deadline(this.db.getAll(...refs), 'read');
    return snaps.map((s) => (s.exists ? s.data() : undefined));
  }

  /** One atomic commit (≤ 500 writes). */
  async commit(ops: WriteOp[]): Promise<void> {
    if (ops.length === 0) return;
    if (ops.length > MAX_WRITES_PER_COMMIT) throw new Error(`a commit holds at most ${MAX_WRITES_PER_COMMIT} writes`);
    const batch: WriteBatch = this.db.batch();
    for (const op of ops) {
      const ref: DocumentReference = this.db.doc(op.path);
      if (op.kind === 'set') batch.set(ref, op.data);
      else batch.delete(ref);
    }
    this.rpcs.commits += 1;
    this.rpcs.writes += ops.length;
    await this.deadline(batch.commit(), 'commit');
  }

  /** Ids of up to `limit` documents in a collection (the emulator has no listDocuments). */
  async listIds(collectionPath: string, limit: number): Promise<string[]> {
    this.rpcs.queries += 1;
    const snap = await this.deadline(this.db.collection(collectionPath).limit(limit).get(), 'query');
    return snap.docs.map((d) => d.id);
  }

  /** Documents of a collection with the `id` field greater than `afterId`, in id order. */
  async pageById(collectionPath: string, afterId: string, limit: number): Promise<{ id: string; data: DocumentData }[]> {
    this.rpcs.queries += 1;
    // Paging on a stored `id` field works on real Firestore and on the in-process emulator alike
    // (the emulator ignores startAfter and documentId() ranges).
    const snap = await this.deadline(
      this.db.collection(collectionPath).where('id', '>', afterId).orderBy('id').limit(limit).get(),
      'query',
    );
    return snap.docs.map((d) => ({ id: d.id, data: d.data() }));
  }

  async listAll(collectionPath: string): Promise<{ id: string; data: DocumentData }[]> {
    this.rpcs.queries += 1;
    const snap = await this.deadline(this.db.collection(collectionPath).get(), 'query');
    return snap.docs.map((d) => ({ id: d.id, data: d.data() }));
  }

  async countDocs(collectionPath: string): Promise<number> {
    this.rpcs.queries += 1;
    const snap = await this.deadline(this.db.collection(collectionPath).count().get(), 'count');
    return snap.data().count;
  }

  private deadline<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout;
    return Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Firestore ${what} timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }
}

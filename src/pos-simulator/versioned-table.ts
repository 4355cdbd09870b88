// A table of records kept as revisions, each visible from a given time. This is how the
// simulator is eventually consistent: a record created or changed at runtime can become
// visible to list endpoints only after a delay, while the latest revision is what mutations
// build on. Generated records are visible from the start.
interface Revision<T> {
  visibleAt: number;
  value: T;
}

export class VersionedTable<T> {
  private readonly rows = new Map<string, Array<Revision<T>>>();
  /** The latest time any revision becomes visible; after it, the visible list is the latest list. */
  private settledAt = Number.NEGATIVE_INFINITY;
  /** listVisible's answer, valid until the next put once every revision is visible. */
  private visibleCache: T[] | undefined;

  constructor(private readonly keyOf: (value: T) => string) {}

  /** Appends a revision; revisions of one key must be put in time order. */
  put(value: T, visibleAt = Number.NEGATIVE_INFINITY): void {
    const key = this.keyOf(value);
    this.settledAt = Math.max(this.settledAt, visibleAt);
    this.visibleCache = undefined;
    const revisions = this.rows.get(key);
    if (revisions) revisions.push({ visibleAt, value });
    else this.rows.set(key, [{ visibleAt, value }]);
  }

  /** The newest revision, visible or not: the truth that mutations change. */
  latest(key: string): T | undefined {
    const revisions = this.rows.get(key);
    return revisions?.[revisions.length - 1]?.value;
  }

  /** The newest revision a reader can see at `now`, if any. */
  visible(key: string, now: number): T | undefined {
    const revisions = this.rows.get(key);
    if (!revisions) return undefined;
    for (let i = revisions.length - 1; i >= 0; i--) {
      const revision = revisions[i] as Revision<T>;
      if (revision.visibleAt <= now) return revision.value;
    }
    return undefined;
  }

  /** Every key's visible revision. Callers must not change the array. */
  listVisible(now: number): T[] {
    // Paging calls this per page: once everything is visible, one list serves until the next put.
    if (now >= this.settledAt) return (this.visibleCache ??= this.listLatest());
    const out: T[] = [];
    for (const key of this.rows.keys()) {
      const value = this.visible(key, now);
      if (value !== undefined) out.push(value);
    }
    return out;
  }

  listLatest(): T[] {
    return [...this.rows.keys()].map((key) => this.latest(key) as T);
  }

  get size(): number {
    return this.rows.size;
  }
}

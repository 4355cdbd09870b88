// Read-ahead for paged APIs: while a page is being stored, the next one is already on its way,
// so network time overlaps database time. At most one page waits in memory.

export async function* prefetch<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  let finished = false;
  try {
    for (;;) {
      const result = await next;
      if (result.done) {
        finished = true;
        return;
      }
      next = iterator.next();
      yield result.value;
    }
  } finally {
    if (!finished) {
      // The consumer stopped early (or failed): the read-ahead's outcome no longer matters.
      next.catch(() => undefined);
      await iterator.return?.(undefined);
    }
  }
}

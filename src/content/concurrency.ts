/**
 * Runs `fn` over `items` with at most `limit` in flight. The first failure aborts the signal the
 * others were given and stops new ones from starting; the call settles only once every item in
 * flight has settled, then throws that first failure. Nothing keeps running after the caller has
 * seen the error: a cancelled upload has sent its DELETE, a temp file has been removed.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number, signal: AbortSignal) => Promise<R>,
  options: { signal?: AbortSignal } = {},
): Promise<R[]> {
  const results = new Array<R>(items.length);
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  let next = 0;
  let failure: { err: unknown } | undefined;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (failure === undefined && !signal.aborted && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i, signal);
      } catch (err) {
        if (failure === undefined) {
          failure = { err };
          stop.abort(err);
        }
        return;
      }
    }
  });
  await Promise.all(workers);
  if (failure !== undefined) throw failure.err;
  options.signal?.throwIfAborted();
  return results;
}
